namespace JobWorker.Persistence;

/// <summary>
/// One row of the <c>workers</c> table: a replica's latest heartbeat, so operators see which replicas are alive, how
/// busy each is, and when each last made progress. A replica writes its own row; nothing else depends on it.
/// </summary>
internal sealed class WorkerHeartbeat
{
    /// <summary>The replica's identity, as in the jobs table's owner column.</summary>
    public string Id { get; set; } = "";

    public string Queue { get; set; } = "";

    /// <summary>Job slots (<c>Jobs:ConcurrentJobs</c>).</summary>
    public int Slots { get; set; }

    /// <summary>Slots in use at the last heartbeat.</summary>
    public int Busy { get; set; }

    public DateTime StartedAt { get; set; }

    public DateTime LastSeenAt { get; set; }

    /// <summary>When the replica last claimed or finished a job.</summary>
    public DateTime? LastProgressAt { get; set; }

    /// <summary>Set when the replica shut down cleanly.</summary>
    public DateTime? StoppedAt { get; set; }
}
