namespace JobWorker.Jobs;

/// <summary>
/// Decides which occurrences of a due schedule fire now and where it goes next (Quartz's misfire model). An occurrence
/// at most <c>MisfireThreshold</c> late always fires; one later than that was missed, and the schedule's catch-up policy
/// says what becomes of it: <c>None</c> drops it, <c>Latest</c> fires only the latest missed one, <c>All</c> fires every
/// missed one within the catch-up window. At most <c>maxPerClaim</c> jobs per claim, so a long window cannot flood the
/// queue: the rest are claimed on the following ticks. With <c>Overlap=Skip</c> one occurrence is fired per claim (the
/// next ones would overlap it), and while the previous job is still Pending or Running every due occurrence is skipped,
/// except the missed ones <c>CatchUp=All</c> fires: the schedule waits at the first of them until the previous job finished.
/// </summary>
internal static class RecurringPlanner
{
    /// <summary>The most missed occurrences counted for the metrics; enough to say "many".</summary>
    private const int CountLimit = 10_000;

    public static RecurringPlan Decide(DueSchedule due, TimeSpan misfireThreshold, int maxPerClaim)
    {
        var cron = RecurringCron.Parse(due.Cron);
        var zone = RecurringCron.Zone(due.TimeZone);
        var now = due.Now;
        var next = due.NextRunAt;
        var lateLimit = now - misfireThreshold;
        var lastMissed = lateLimit.AddTicks(-1);

        var fire = new List<DateTime>();
        var dropped = 0;
        if (next <= lastMissed)
        {
            switch (due.CatchUp)
            {
                case RecurringCatchUp.None:
                    dropped = RecurringCron.Between(cron, zone, next, lastMissed, CountLimit).Count;
                    break;
                case RecurringCatchUp.Latest:
                    if (RecurringCron.Latest(cron, zone, next, lastMissed) is { } latest)
                    {
                        fire.Add(latest);
                        dropped = RecurringCron.Between(cron, zone, next, latest, CountLimit).Count - 1;
                    }

                    break;
                case RecurringCatchUp.All:
                    var window = now - (due.CatchUpWindow ?? RecurringDefinition.DefaultCatchUpWindow);
                    var from = window > next ? window : next;
                    if (from > next)
                    {
                        dropped = RecurringCron.Between(cron, zone, next, from.AddTicks(-1), CountLimit).Count;
                    }

                    // One more than a claim holds, so a full claim of missed occurrences is seen as truncated and the
                    // schedule goes on from the last fired rather than jumping past the rest.
                    fire.AddRange(RecurringCron.Between(cron, zone, from, lastMissed, maxPerClaim + 1));
                    break;
            }
        }

        var onTimeFrom = next > lateLimit ? next : lateLimit;
        fire.AddRange(RecurringCron.Between(cron, zone, onTimeFrom, now, maxPerClaim - fire.Count + 1));
        var afterNow = RecurringCron.Next(cron, zone, now);
        if (fire.Count == 0)
        {
            return new RecurringPlan(due.Key, next, [], afterNow, afterNow, null, 0, false, dropped);
        }

        if (due.Overlap == RecurringOverlap.Skip)
        {
            // One at a time: the next due occurrence is claimed on the next tick, when this one's job may have finished. After
            // the latest missed one, the schedule goes on from the first occurrence that is not missed.
            var resumeAt = due.CatchUp == RecurringCatchUp.Latest && fire[0] < lateLimit
                ? RecurringCron.Next(cron, zone, lateLimit, inclusive: true)
                : RecurringCron.Next(cron, zone, fire[0]);
            if (due.CatchUp == RecurringCatchUp.All && fire[0] < lateLimit)
            {
                // A missed occurrence CatchUp=All fires waits for the previous job instead of being skipped: while busy the
                // schedule stays at it, so the catch-up goes on one occurrence at a time, each after the previous one finished.
                return new RecurringPlan(due.Key, next, [fire[0]], resumeAt, fire[0], null, 0, true, dropped);
            }

            var last = RecurringCron.Latest(cron, zone, fire[0], now) ?? fire[^1];
            var skipped = RecurringCron.Between(cron, zone, fire[0], now, CountLimit).Count;
            return new RecurringPlan(due.Key, next, [fire[0]], resumeAt, afterNow, last, skipped, true, dropped);
        }

        if (fire.Count > maxPerClaim)
        {
            fire.RemoveRange(maxPerClaim, fire.Count - maxPerClaim);
            return new RecurringPlan(due.Key, next, fire, RecurringCron.Next(cron, zone, fire[^1]), null, null, 0, false, dropped);
        }

        return new RecurringPlan(due.Key, next, fire, afterNow, afterNow, null, 0, false, dropped);
    }
}
