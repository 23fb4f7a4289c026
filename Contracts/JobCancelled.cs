namespace JobWorker.Contracts;

/// <summary>The job was cancelled (by <see cref="CancelJob"/>) and will not run again.</summary>
public sealed record JobCancelled
{
    public Guid JobId { get; init; }
    public int Attempt { get; init; }
    public string Reason { get; init; } = "";
}
