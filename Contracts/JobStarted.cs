namespace JobWorker.Contracts;

/// <summary>A worker claimed the job and its handler is running.</summary>
public sealed record JobStarted
{
    /// <summary>The job.</summary>
    public Guid JobId { get; init; }
    /// <summary>
    /// The deployment that ran the job: its worker's <c>Jobs:QueueName</c>. Each deployment publishes its events on
    /// exchanges of its own (<c>&lt;queue&gt;:JobWorker.Contracts:JobStarted</c>), so a subscriber bound to them sees one queue.
    /// </summary>
    public string Queue { get; init; } = "";
    /// <summary>The job's type.</summary>
    public string JobType { get; init; } = "";
    /// <summary>This attempt, from 1.</summary>
    public int Attempt { get; init; }
    /// <summary>The replica running it (host name and process).</summary>
    public string WorkerId { get; init; } = "";
    /// <summary>When the attempt was claimed (UTC, the database's clock).</summary>
    public DateTime StartedAt { get; init; }
    /// <summary>The publisher's workflow id, from <see cref="SubmitJob.CorrelationId"/>.</summary>
    public Guid? CorrelationId { get; init; }
}
