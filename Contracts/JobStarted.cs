namespace JobWorker.Contracts;

/// <summary>A worker claimed the job and its handler is running.</summary>
public sealed record JobStarted
{
    public Guid JobId { get; init; }
    public string JobType { get; init; } = "";
    public int Attempt { get; init; }
    public string WorkerId { get; init; } = "";
    public DateTime StartedAt { get; init; }
    public Guid? CorrelationId { get; init; }
}
