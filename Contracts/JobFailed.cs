namespace JobWorker.Contracts;

/// <summary>An attempt failed. When <see cref="WillRetry"/> is false the job is Failed for good.</summary>
public sealed record JobFailed
{
    /// <summary>The job.</summary>
    public Guid JobId { get; init; }
    /// <summary>
    /// The deployment that ran the job: its worker's <c>Jobs:QueueName</c>. Each deployment publishes its events on
    /// exchanges of its own (<c>&lt;queue&gt;:JobWorker.Contracts:JobFailed</c>), so a subscriber bound to them sees one queue.
    /// </summary>
    public string Queue { get; init; } = "";
    /// <summary>The job's type.</summary>
    public string JobType { get; init; } = "";
    /// <summary>The attempt that failed, from 1.</summary>
    public int Attempt { get; init; }
    /// <summary>What went wrong, as the handler or the worker reported it.</summary>
    public string Error { get; init; } = "";
    /// <summary>True when another attempt is scheduled; false when the job is Failed for good.</summary>
    public bool WillRetry { get; init; }
    /// <summary>The publisher's workflow id, from <see cref="SubmitJob.CorrelationId"/>.</summary>
    public Guid? CorrelationId { get; init; }
}
