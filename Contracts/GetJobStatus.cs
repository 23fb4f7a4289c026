namespace JobWorker.Contracts;

/// <summary>
/// Asks for a job's current state; answered with <see cref="JobStatus"/>. Send it to the deployment's status queue,
/// <c>queue:&lt;queue&gt;-status</c> (a request client created with that address).
/// </summary>
public sealed record GetJobStatus
{
    /// <summary>The job to look up.</summary>
    public Guid JobId { get; init; }
}
