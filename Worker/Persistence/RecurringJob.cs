namespace JobWorker.Persistence;

/// <summary>
/// One row of <c>recurring_jobs</c>: a schedule that the replicas of <see cref="Queue"/> fire, all of them and none as a
/// leader. <see cref="NextRunAt"/> is the claim: a replica fires an occurrence by moving it forward with a compare-and-set
/// in the statement that inserts the job, so each occurrence is fired once and the schedule survives any restart.
/// </summary>
internal sealed class RecurringJob
{
    /// <summary>The schedule's name, unique across queues.</summary>
    public string Key { get; set; } = "";

    /// <summary>The deployment queue (<c>Jobs:QueueName</c>) whose replicas fire it, and whose jobs they are.</summary>
    public string Queue { get; set; } = "";

    /// <summary>The cron expression: five fields, or six with seconds first.</summary>
    public string Cron { get; set; } = "";

    /// <summary>The IANA time zone the expression is read in.</summary>
    public string TimeZone { get; set; } = "UTC";

    public string Type { get; set; } = "";

    public string Payload { get; set; } = "null";

    /// <summary>Attempts per job; null takes <c>Submissions:DefaultMaxAttempts</c> of the replica that fires it.</summary>
    public int? MaxAttempts { get; set; }

    public TimeSpan? Timeout { get; set; }

    /// <summary><c>Skip</c> or <c>Allow</c>: whether an occurrence fires while the previous one's job is Pending or Running.</summary>
    public string Overlap { get; set; } = "Skip";

    /// <summary><c>None</c>, <c>Latest</c> or <c>All</c>: what becomes of occurrences missed while no replica ran.</summary>
    public string CatchUp { get; set; } = "None";

    /// <summary>How far back <c>All</c> reaches.</summary>
    public TimeSpan? CatchUpWindow { get; set; }

    /// <summary><c>Configuration</c>, <c>Code</c> or <c>Runtime</c> (the CLI).</summary>
    public string Source { get; set; } = "";

    /// <summary>False once its configuration or code no longer defines it: it never fires again until it is defined again.</summary>
    public bool Enabled { get; set; } = true;

    public DateTime? PausedAt { get; set; }

    public string? PausedBy { get; set; }

    /// <summary>The next occurrence to fire; null when the expression has none left.</summary>
    public DateTime? NextRunAt { get; set; }

    /// <summary>The last occurrence fired or skipped.</summary>
    public DateTime? LastOccurrenceAt { get; set; }

    /// <summary>The job of the last occurrence that fired (or of the last trigger).</summary>
    public Guid? LastJobId { get; set; }

    /// <summary>When an occurrence was last skipped because the previous one was still Pending or Running.</summary>
    public DateTime? LastSkippedAt { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
