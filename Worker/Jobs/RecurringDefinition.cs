namespace JobWorker.Jobs;

/// <summary>One recurring schedule as configuration, code or an operator defines it, before it is stored.</summary>
internal sealed record RecurringDefinition(
    string Key, string Cron, string Type, string PayloadJson, string TimeZone, int? MaxAttempts, TimeSpan? Timeout,
    RecurringOverlap Overlap, RecurringCatchUp CatchUp, TimeSpan? CatchUpWindow, RecurringSource Source)
{
    /// <summary>How far back <see cref="RecurringCatchUp.All"/> reaches when a schedule does not say.</summary>
    public static readonly TimeSpan DefaultCatchUpWindow = TimeSpan.FromHours(1);
}
