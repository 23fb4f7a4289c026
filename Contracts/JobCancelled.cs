namespace JobWorker.Contracts;

/// <summary>The job was cancelled (by <see cref="CancelJob"/>) and will not run again.</summary>
public sealed record JobCancelled
{
    /// <summary>The job.</summary>
    public Guid JobId { get; init; }
    /// <summary>
    /// The deployment that ran the job: its worker's <c>Jobs:QueueName</c>. Each deployment publishes its events on
    /// exchanges of its own (<c>&lt;queue&gt;:JobWorker.Contracts:JobCancelled</c>), so a subscriber bound to them sees one queue.
    /// </summary>
    public string Queue { get; init; } = "";
    /// <summary>The attempt that was running or due when the cancel took effect (0 if none had started).</summary>
    public int Attempt { get; init; }
    /// <summary>The reason given in <see cref="CancelJob"/>.</summary>
    public string Reason { get; init; } = "";
}
