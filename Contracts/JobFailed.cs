namespace JobWorker.Contracts;

/// <summary>An attempt failed. When <see cref="WillRetry"/> is false the job is Failed for good.</summary>
public sealed record JobFailed
{
    public Guid JobId { get; init; }
    public string JobType { get; init; } = "";
    public int Attempt { get; init; }
    public string Error { get; init; } = "";
    public bool WillRetry { get; init; }
    public Guid? CorrelationId { get; init; }
}
