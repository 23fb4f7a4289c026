namespace JobWorker.Contracts;

/// <summary>
/// Asks for a job to be cancelled. A pending or scheduled job never runs; a running job's handler has its token
/// cancelled. Either way the job ends Cancelled and <see cref="JobCancelled"/> is published once. Send it to the
/// deployment's cancel queue, <c>queue:&lt;queue&gt;-cancel</c>: the request is recorded by one worker replica, from that
/// durable queue, and the replica running the job, which hears of it through the same exchange, stops it at once.
/// </summary>
public sealed record CancelJob
{
    /// <summary>The job to cancel.</summary>
    public Guid JobId { get; init; }
    /// <summary>Why; stored as the job's error and sent on in <see cref="JobCancelled"/>.</summary>
    public string? Reason { get; init; }
}
