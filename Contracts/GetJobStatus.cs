namespace JobWorker.Contracts;

/// <summary>Asks for a job's current state; answered with <see cref="JobStatus"/>.</summary>
public sealed record GetJobStatus
{
    /// <summary>The job to look up.</summary>
    public Guid JobId { get; init; }
}
