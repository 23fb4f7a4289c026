namespace JobWorker.Jobs;

/// <summary>The optional parts of a recurring schedule defined in code (<c>AddRecurringJob</c>); configuration has the same fields.</summary>
public sealed class RecurringJobOptions
{
    /// <summary>The IANA time zone the cron expression is read in, e.g. <c>Europe/Berlin</c>.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Attempts per job; null takes <c>Submissions:DefaultMaxAttempts</c>.</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>Per-attempt time limit; null takes <c>Submissions:DefaultTimeout</c>.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Whether an occurrence fires while the previous one's job is still Pending or Running; Skip by default.</summary>
    public RecurringOverlap Overlap { get; set; } = RecurringOverlap.Skip;

    /// <summary>What becomes of occurrences missed while no replica ran; None by default.</summary>
    public RecurringCatchUp CatchUp { get; set; } = RecurringCatchUp.None;

    /// <summary>How far back <see cref="RecurringCatchUp.All"/> reaches; one hour when not set.</summary>
    public TimeSpan? CatchUpWindow { get; set; }
}
