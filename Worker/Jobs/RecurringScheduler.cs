using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Fires this queue's recurring schedules, on every replica with no leader, no lock and no session state (so it works
/// through PgBouncer in transaction mode). Each tick reads the schedules due by the database's clock; for each,
/// <see cref="RecurringPlanner"/> decides which occurrences fire and the next run, and one statement moves the next run
/// with a compare-and-set and inserts the jobs, so each occurrence is claimed once, durably, by whichever replica gets
/// there first. The jobs are then dispatched like any other. Its first tick upserts the schedules configuration and code
/// define, and disables those of this queue that they no longer define.
/// </summary>
internal sealed partial class RecurringScheduler(
    RecurringStore store, RecurringDefinitions definitions, IOptions<RecurringOptions> options, IOptions<JobOptions> jobs,
    IOptions<SubmissionOptions> submissions, ILogger<RecurringScheduler> logger) : MaintenanceService(logger)
{
    /// <summary>Schedules one tick claims at most; the rest are next tick's.</summary>
    private const int SchedulesPerTick = 100;

    private bool _synced;

    public override string Name => "recurring";

    /// <summary>A failing scheduler delays schedules but not the jobs already in the ledger; readiness shows it, degraded.</summary>
    public override bool Critical => false;

    public override TimeSpan Interval => options.Value.PollInterval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!_synced)
        {
            await SyncAsync(cancellationToken);
            _synced = true;
        }

        await FireDueAsync(cancellationToken);
    }

    /// <summary>Upserts the configuration's and code's schedules of this queue; disables the ones they dropped.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var queue = jobs.Value.QueueName;
        var now = await store.NowAsync(cancellationToken);
        var all = definitions.All
            .Select(d => (d, RecurringCron.Next(RecurringCron.Parse(d.Cron), RecurringCron.Zone(d.TimeZone), now)))
            .ToList();
        var disabled = await store.SyncAsync(queue, all, cancellationToken);
        foreach (var key in definitions.Overridden)
        {
            LogOverridden(logger, key);
        }

        foreach (var key in disabled)
        {
            LogDisabled(logger, key, queue);
        }

        if (all.Count > 0)
        {
            LogSynced(logger, all.Count, queue);
        }
    }

    /// <summary>Claims and fires every due schedule of this queue once; returns the jobs inserted.</summary>
    public async Task<long> FireDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        long inserted = 0;
        foreach (var due in await store.DueAsync(jobs.Value.QueueName, SchedulesPerTick, cancellationToken))
        {
            RecurringPlan plan;
            try
            {
                plan = RecurringPlanner.Decide(due, settings.MisfireThreshold, settings.MaxJobsPerClaim);
            }
            catch (Exception e) when (e is Cronos.CronFormatException or TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                LogUnreadable(logger, due.Key, e.Message);
                continue;
            }

            var fired = await store.FireAsync(plan, submissions.Value.DefaultMaxAttempts, submissions.Value.DefaultTimeout, cancellationToken);
            if (fired is not { } result)
            {
                continue;
            }

            var schedule = new KeyValuePair<string, object?>("jobworker.recurring.key", due.Key);
            if (plan.Dropped > 0)
            {
                JobWorkerTelemetry.RecurringOccurrences.Add(plan.Dropped, schedule, Outcome("missed"));
                LogMissed(logger, due.Key, plan.Dropped, due.NextRunAt);
            }

            if (result.Skipped)
            {
                if (plan.Skipped > 0)
                {
                    JobWorkerTelemetry.RecurringOccurrences.Add(plan.Skipped, schedule, Outcome("skipped"));
                    LogSkipped(logger, due.Key, plan.Skipped, plan.LastIfSkipped ?? due.NextRunAt);
                }
            }
            else if (plan.Fire.Count > 0)
            {
                JobWorkerTelemetry.RecurringOccurrences.Add(plan.Fire.Count, schedule, Outcome("fired"));
                LogFired(logger, due.Key, plan.Fire.Count, plan.Fire[^1], result.Inserted);
                inserted += result.Inserted;
            }
        }

        return inserted;
    }

    private static KeyValuePair<string, object?> Outcome(string outcome) => new("jobworker.recurring.outcome", outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Key} fired {Count} occurrence(s), the last at {Occurrence:o} ({Inserted} job(s) inserted)")]
    private static partial void LogFired(ILogger logger, string key, int count, DateTime occurrence, long inserted);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Key} skipped {Count} occurrence(s), the last at {Occurrence:o}: the previous one is still Pending or Running (Overlap=Skip)")]
    private static partial void LogSkipped(ILogger logger, string key, int count, DateTime occurrence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recurring: {Key} missed {Count} occurrence(s) from {From:o} while no replica ran; its CatchUp policy did not fire them")]
    private static partial void LogMissed(ILogger logger, string key, int count, DateTime from);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recurring: {Key} cannot be computed and does not fire: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Count} schedule(s) of queue {Queue} from configuration and code are in place")]
    private static partial void LogSynced(ILogger logger, int count, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recurring: {Key} is no longer defined in configuration or code for queue {Queue}, so it is disabled and fires no more")]
    private static partial void LogDisabled(ILogger logger, string key, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Key} is defined in configuration and in code; the configuration's definition is used")]
    private static partial void LogOverridden(ILogger logger, string key);
}
