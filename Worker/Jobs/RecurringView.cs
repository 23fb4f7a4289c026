using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>A schedule as operators see it (CLI <c>recurring list</c>, the dashboard's Recurring page), with its last job's state.</summary>
internal sealed record RecurringView(
    string Key, string Queue, string Cron, string TimeZone, string Type, string Payload, int? MaxAttempts, TimeSpan? Timeout,
    RecurringOverlap Overlap, RecurringCatchUp CatchUp, TimeSpan? CatchUpWindow, RecurringSource Source, bool Enabled,
    DateTime? PausedAt, string? PausedBy, DateTime? NextRunAt, DateTime? LastOccurrenceAt, Guid? LastJobId,
    DateTime? LastSkippedAt, JobState? LastState)
{
    /// <summary>"disabled" (no longer defined), "paused", or "active".</summary>
    public string Status => !Enabled ? "disabled" : PausedAt is not null ? "paused" : "active";
}
