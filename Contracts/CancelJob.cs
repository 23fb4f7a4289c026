namespace JobWorker.Contracts;

/// <summary>
/// Asks for a job to be cancelled. A pending or scheduled job never runs; a running job's handler has its token
/// cancelled. Either way the job ends Cancelled and <see cref="JobCancelled"/> is published once. Publish it: the
/// request is recorded by one worker replica, from a durable queue, and the replica running the job stops it.
/// </summary>
public sealed record CancelJob
{
    public Guid JobId { get; init; }
    public string? Reason { get; init; }
}
