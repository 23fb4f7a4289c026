namespace JobWorker.Jobs;

/// <summary>A schedule whose next run is due, as the scheduler reads it, with the database's clock at that read.</summary>
internal sealed record DueSchedule(
    string Key, string Cron, string TimeZone, RecurringOverlap Overlap, RecurringCatchUp CatchUp, TimeSpan? CatchUpWindow,
    DateTime NextRunAt, DateTime Now);
