namespace JobWorker.Contracts;

/// <summary>Asks for a job's current state; answered with <see cref="JobStatus"/>.</summary>
public sealed record GetJobStatus
{
    public Guid JobId { get; init; }
}
