namespace JobWorker.Persistence;

/// <summary>One row of the <c>jobs</c> table: a job's whole recorded life.</summary>
internal sealed class Job
{
    public Guid Id { get; set; }
    public string Type { get; set; } = "";

    /// <summary>The queue the job was submitted to; the dispatchers of that queue's workers send it when it is due.</summary>
    public string Queue { get; set; } = "";

    /// <summary>The handler's input as JSON text (jsonb).</summary>
    public string Payload { get; set; } = "null";

    public JobState State { get; set; }

    /// <summary>Number of attempts claimed so far; the fencing token for outcome writes.</summary>
    public int Attempt { get; set; }

    public int MaxAttempts { get; set; }

    /// <summary>Per-attempt time limit; the worker's default when null.</summary>
    public TimeSpan? Timeout { get; set; }

    public Guid? CorrelationId { get; set; }

    /// <summary>While Pending: the job may not be claimed before this (scheduled jobs, retry backoff).</summary>
    public DateTime RunAt { get; set; }

    /// <summary>While Pending: when a SubmitJob for it was last sent; null when no message for it is known to be queued.</summary>
    public DateTime? DispatchedAt { get; set; }

    /// <summary>A CancelJob was received while the job was Running: its owner stops it, or recovery ends it Cancelled.</summary>
    public string? CancelReason { get; set; }

    /// <summary>The claim that made the current attempt: lets a claim retried after a lost reply recognise its own write.</summary>
    public Guid? ClaimToken { get; set; }

    /// <summary>The worker that owns the current attempt (set while Running).</summary>
    public string? Owner { get; set; }

    /// <summary>While Running: the owner renews this; once it passes, recovery takes the job back.</summary>
    public DateTime? LeaseExpiresAt { get; set; }

    public string? Error { get; set; }

    /// <summary>The handler's result as JSON text (jsonb).</summary>
    public string? Result { get; set; }

    /// <summary>For a continuation: it runs once every parent has finished, however each ended, instead of only after all Succeeded.</summary>
    public bool AfterAny { get; set; }

    /// <summary>The handler's last progress report (<c>JobRun.ReportProgressAsync</c>): work done so far.</summary>
    public long? ProgressCompleted { get; set; }

    /// <summary>The work in all, when the handler knows it.</summary>
    public long? ProgressTotal { get; set; }

    public string? ProgressMessage { get; set; }

    /// <summary>When the last progress report was written; kept after the attempt ends.</summary>
    public DateTime? ProgressUpdatedAt { get; set; }

    /// <summary>The handler's last saved checkpoint as JSON text (jsonb); it survives attempts, so the next one resumes from it.</summary>
    public string? Checkpoint { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>0 to 9, higher first: the order in which due jobs are dispatched and deliveries take a slot.</summary>
    public short Priority { get; set; }

    /// <summary>The submitter's key (a tenant, say) that <c>Limits:&lt;type&gt;:PerKeyConcurrency</c> counts runs by; null when none.</summary>
    public string? ConcurrencyKey { get; set; }

    /// <summary>
    /// Written by the client's transactional enqueue and not yet through a worker's accept checks: never sent while set.
    /// A worker's own accepts store false (the column's default).
    /// </summary>
    public bool Unchecked { get; set; }
}
