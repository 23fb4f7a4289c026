namespace JobWorker.Contracts;

/// <summary>
/// Asks for a job to be cancelled. A pending or scheduled job never runs; a running job's handler has its token
/// cancelled. Either way the job ends Cancelled and <see cref="JobCancelled"/> is published once. Publish it: the
/// request is recorded by one worker replica, from a durable queue, and the replica running the job stops it.
/// </summary>
public sealed record CancelJob
{
    /// <summary>The job to cancel.</summary>
    public Guid JobId { get; init; }
    /// <summary>Why; stored as the job's error and sent on in <see cref="JobCancelled"/>.</summary>
    public string? Reason { get; init; }
}
