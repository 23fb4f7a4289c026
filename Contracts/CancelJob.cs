namespace JobWorker.Contracts;

/// <summary>
/// Asks for a job to be cancelled. A pending job never runs; a running job's handler has its token
/// cancelled. Either way the job ends Cancelled and <see cref="JobCancelled"/> is published. Publish it:
/// every running worker replica receives it.
/// </summary>
public sealed record CancelJob
{
    public Guid JobId { get; init; }
    public string? Reason { get; init; }
}
