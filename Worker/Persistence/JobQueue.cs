namespace JobWorker.Persistence;

/// <summary>
/// One row of the <c>queues</c> table: an operator's pause of a queue, kept in the ledger so that every replica sees it
/// (each reads it every tick, needing no session state) and it outlives any restart. No row, or no
/// <see cref="PausedAt"/>, means the queue runs.
/// </summary>
internal sealed class JobQueue
{
    /// <summary>The queue's name (<c>Jobs:QueueName</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>When an operator paused it; null while it runs.</summary>
    public DateTime? PausedAt { get; set; }

    /// <summary>Who paused it (the CLI's user and host, or the dashboard's).</summary>
    public string? PausedBy { get; set; }

    /// <summary>Why, in the operator's words.</summary>
    public string? Reason { get; set; }
}
