using JobWorker.Resilience;
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

    /// <summary>
    /// How long this replica leaves a schedule it could not read or fire: it is not read again meanwhile (so it neither
    /// takes a slot of the tick from the others nor logs an error every poll), then it is tried again.
    /// </summary>
    private static readonly TimeSpan ParkFor = TimeSpan.FromMinutes(5);

    /// <summary>Parked keys and when they may be tried again; only the tick touches it, and ticks do not overlap.</summary>
    private readonly Dictionary<string, DateTime> _parked = new(StringComparer.Ordinal);

    private bool _synced;

    public override string Name => "recurring";

    /// <summary>A failing scheduler delays schedules but not the jobs already in the ledger; readiness shows it, degraded.</summary>
    public override bool Critical => false;

    public override TimeSpan Interval => options.Value.PollInterval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        Exception? syncFailure = null;
        if (!_synced)
        {
            try
            {
                await SyncAsync(cancellationToken);
                _synced = true;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The schedules already in the ledger still fire; the sync is tried again next tick, and the tick is
                // reported failed (logged, readiness degraded) until it succeeds.
                syncFailure = e;
            }
        }

        await FireDueAsync(cancellationToken);
        if (syncFailure is not null)
        {
            throw new InvalidOperationException($"Recurring: the schedules of configuration and code could not be put in place: {syncFailure.Message}", syncFailure);
        }
    }

    /// <summary>Upserts the configuration's and code's schedules of this queue; disables the ones they dropped.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var queue = jobs.Value.QueueName;
        var now = await store.NowAsync(cancellationToken);
        var all = definitions.All
            .Select(d => (d, RecurringCron.Next(RecurringCron.Parse(d.Cron), RecurringCron.Zone(d.TimeZone), now)))
            .ToList();
        var reported = await store.SyncAsync(queue, all, cancellationToken);
        foreach (var key in definitions.Overridden)
        {
            LogOverridden(logger, key);
        }

        foreach (var (key, outcome, owner) in reported)
        {
            switch (outcome)
            {
                case "disabled":
                    LogDisabled(logger, key, queue);
                    break;
                case "owned":
                    LogOwnedElsewhere(logger, key, queue, owner);
                    break;
                case "replaced":
                    LogReplacedRuntime(logger, key);
                    break;
            }
        }

        var owned = reported.Count(r => r.Outcome == "owned");
        if (all.Count > owned)
        {
            LogSynced(logger, all.Count - owned, queue);
        }
    }

    /// <summary>
    /// Claims and fires every due schedule of this queue once; returns the jobs inserted. A schedule that cannot be read,
    /// computed or fired for its own data is logged and parked (<see cref="ParkFor"/>), and the others go on.
    /// </summary>
    public async Task<long> FireDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var clock = DateTime.UtcNow;
        foreach (var expired in _parked.Where(p => p.Value <= clock).Select(p => p.Key).ToList())
        {
            _parked.Remove(expired);
        }

        long inserted = 0;
        foreach (var (key, due, problem) in await store.DueAsync(jobs.Value.QueueName, SchedulesPerTick, _parked.Keys, cancellationToken))
        {
            if (due is null)
            {
                Park(key, problem!);
                continue;
            }

            RecurringPlan plan;
            try
            {
                plan = RecurringPlanner.Decide(due, settings.MisfireThreshold, settings.MaxJobsPerClaim);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Park(key, e.Message);
                continue;
            }

            try
            {
                inserted += await FireAsync(due, plan, cancellationToken);
            }
            catch (Exception e) when (DatabaseErrors.IsRowFault(e))
            {
                // Refused for this row's data: the next claim of it would be too, the others' would not. Any other failure
                // (the database down, the circuit open) fails the tick as a whole, and every schedule is tried next tick.
                Park(key, DatabaseErrors.Describe(e));
            }
        }

        return inserted;
    }

    private async Task<long> FireAsync(DueSchedule due, RecurringPlan plan, CancellationToken cancellationToken)
    {
        var fired = await store.FireAsync(plan, submissions.Value.DefaultMaxAttempts, submissions.Value.DefaultTimeout, cancellationToken);
        if (fired is not { } result)
        {
            return 0;
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

            return 0;
        }

        if (plan.Fire.Count == 0)
        {
            return 0;
        }

        JobWorkerTelemetry.RecurringOccurrences.Add(plan.Fire.Count, schedule, Outcome("fired"));
        LogFired(logger, due.Key, plan.Fire.Count, plan.Fire[^1], result.Inserted);
        return result.Inserted;
    }

    private void Park(string key, string reason)
    {
        _parked[key] = DateTime.UtcNow + ParkFor;
        LogUnreadable(logger, key, reason, ParkFor);
    }

    private static KeyValuePair<string, object?> Outcome(string outcome) => new("jobworker.recurring.outcome", outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Key} fired {Count} occurrence(s), the last at {Occurrence:o} ({Inserted} job(s) inserted)")]
    private static partial void LogFired(ILogger logger, string key, int count, DateTime occurrence, long inserted);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Key} skipped {Count} occurrence(s), the last at {Occurrence:o}: the previous one is still Pending or Running (Overlap=Skip)")]
    private static partial void LogSkipped(ILogger logger, string key, int count, DateTime occurrence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recurring: {Key} missed {Count} occurrence(s) from {From:o} while no replica ran; its CatchUp policy did not fire them")]
    private static partial void LogMissed(ILogger logger, string key, int count, DateTime from);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recurring: {Key} cannot be read or fired, so this replica leaves it for {ParkedFor}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string key, string reason, TimeSpan parkedFor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Count} schedule(s) of queue {Queue} from configuration and code are in place")]
    private static partial void LogSynced(ILogger logger, int count, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recurring: {Key} is no longer defined in configuration or code for queue {Queue}, so it is disabled and fires no more")]
    private static partial void LogDisabled(ILogger logger, string key, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recurring: {Key} is defined here for queue {Queue}, but queue {Owner} has it enabled, so it stays there and fires on {Owner}'s replicas; give it another key, or remove it from {Owner}'s configuration or code")]
    private static partial void LogOwnedElsewhere(ILogger logger, string key, string queue, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recurring: {Key} was added by an operator (Runtime) and configuration or code defines it too; their definition replaces the operator's")]
    private static partial void LogReplacedRuntime(ILogger logger, string key);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recurring: {Key} is defined in configuration and in code; the configuration's definition is used")]
    private static partial void LogOverridden(ILogger logger, string key);
}
