using JobWorker.Jobs;
using JobWorker.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>The scheduler's tick on the real ledger, in process: what a failing sync or a bad schedule row leaves working.</summary>
public sealed class RecurringSchedulerTests
{
    private const string EverySecond = "* * * * * *";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test, Description("A trigger refuses the code schedule's row, so the start-up sync fails on every tick; the runtime schedule already in the ledger fires all the same.")]
    public async Task Scheduler_fires_due_schedules_when_the_start_up_sync_fails()
    {
        var queue = TestWorker.UniqueQueue();
        string runtime = $"{queue}-runtime", refused = $"{queue}-refused";
        var added = await RecurringLedger.Control.AddAsync(queue, runtime, EverySecond, "noop", null, "UTC", CancellationToken.None);
        await ExecuteAsync("""
            CREATE OR REPLACE FUNCTION test_refuse_recurring() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'refused by the test'; END $$
            """);
        await ExecuteAsync($"""CREATE TRIGGER "{refused}" BEFORE INSERT OR UPDATE ON recurring_jobs FOR EACH ROW WHEN (NEW.key = '{refused}') EXECUTE FUNCTION test_refuse_recurring()""");
        try
        {
            var scheduler = Scheduler(queue, [Code(refused)]);

            var runs = await Eventually.WaitForAsync(async () =>
            {
                await scheduler.TickAsync(CancellationToken.None);
                return await RecurringLedger.RunsAsync(queue);
            }, r => r.Count >= 1, Timeout, "the runtime schedule to fire");

            Assert.That(added.Applied, Is.True, added.Message);
            Assert.That(RecurringLedger.Match(runtime, EverySecond, runs).Fired, Has.Count.GreaterThanOrEqualTo(1));
            Assert.That(scheduler.Failures, Is.GreaterThan(0), "the failing sync is still reported, so readiness shows it");
            Assert.That(scheduler.LastError, Does.Contain("refused by the test"));
        }
        finally
        {
            await ExecuteAsync($"""DROP TRIGGER "{refused}" ON recurring_jobs""");
        }
    }

    [Test, Description("Rows an older or newer version, or a hand, left unreadable (an unknown overlap, a bad cron, an unknown zone) are parked; the good schedule fires and the tick does not fail.")]
    public async Task Scheduler_fires_the_other_schedules_when_one_row_is_unreadable()
    {
        var queue = TestWorker.UniqueQueue();
        string good = $"{queue}-good", badOverlap = $"{queue}-overlap", badCron = $"{queue}-cron", badZone = $"{queue}-zone";
        foreach (var key in new[] { badOverlap, badCron, badZone, good })
        {
            await RecurringLedger.Control.AddAsync(queue, key, EverySecond, "noop", null, "UTC", CancellationToken.None);
        }

        await ExecuteAsync($"UPDATE recurring_jobs SET overlap = 'Sometimes' WHERE key = '{badOverlap}'");
        await ExecuteAsync($"UPDATE recurring_jobs SET cron = 'not a cron' WHERE key = '{badCron}'");
        await ExecuteAsync($"UPDATE recurring_jobs SET time_zone = 'Mars/Olympus_Mons' WHERE key = '{badZone}'");
        var scheduler = Scheduler(queue, []);

        var runs = await Eventually.WaitForAsync(async () =>
        {
            await scheduler.TickAsync(CancellationToken.None);
            return await RecurringLedger.RunsAsync(queue);
        }, r => RecurringLedger.Match(good, EverySecond, r).Fired.Count >= 1, Timeout, "the good schedule to fire");

        Assert.That(scheduler.Failures, Is.Zero, "a bad row does not fail the tick");
        Assert.That(RecurringLedger.Match(good, EverySecond, runs).Fired, Has.Count.GreaterThanOrEqualTo(1), "its first job stays Pending (no worker here), so Skip fires no second");
        Assert.That(runs, Has.Count.EqualTo(RecurringLedger.Match(good, EverySecond, runs).Fired.Count), "no job of a bad row");
    }

    [Test, Description("Two queues' deployments define one key: the second start leaves it with the first queue and says so; a Runtime schedule of a key code defines is replaced, with a warning.")]
    public async Task Sync_leaves_a_key_another_queue_has_enabled_and_replaces_a_runtime_schedule_with_a_warning()
    {
        string first = TestWorker.UniqueQueue(), second = TestWorker.UniqueQueue();
        string shared = $"{first}-shared", runtime = $"{first}-runtime";
        await RecurringLedger.Control.AddAsync(first, runtime, EverySecond, "noop", null, "UTC", CancellationToken.None);
        using var capture = new LogCapture();

        await Scheduler(first, [Code(shared), Code(runtime)], capture).SyncAsync(CancellationToken.None);
        await Scheduler(second, [Code(shared)], capture).SyncAsync(CancellationToken.None);
        var sharedRow = await RecurringLedger.Control.FindAsync(shared, CancellationToken.None);
        var runtimeRow = await RecurringLedger.Control.FindAsync(runtime, CancellationToken.None);
        var warnings = capture.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();

        Assert.That(sharedRow?.Queue, Is.EqualTo(first), "an enabled schedule of another queue is not taken over");
        Assert.That(sharedRow?.Enabled, Is.True);
        Assert.That(warnings, Has.One.Contains($"{shared} is defined here for queue {second}, but queue {first} has it enabled"));
        Assert.That(runtimeRow?.Source, Is.EqualTo(RecurringSource.Code));
        Assert.That(warnings, Has.One.Contains($"{runtime} was added by an operator (Runtime)"));
    }

    [Test, Description("A schedule no longer defined is disabled: an operator's trigger would run a job nothing defines any more, so it is refused.")]
    public async Task Trigger_is_refused_when_the_schedule_is_disabled()
    {
        var queue = TestWorker.UniqueQueue();
        var key = $"{queue}-gone";
        await Scheduler(queue, [Code(key) with { Cron = "0 0 0 1 1 *" }]).SyncAsync(CancellationToken.None);
        await Scheduler(queue, []).SyncAsync(CancellationToken.None);

        var triggered = await RecurringLedger.Control.TriggerAsync(key, CancellationToken.None);

        Assert.That((await RecurringLedger.Control.FindAsync(key, CancellationToken.None))?.Enabled, Is.False);
        Assert.That(triggered.Applied, Is.False);
        Assert.That(triggered.Message, Does.Contain("disabled"));
        Assert.That(await RecurringLedger.RunsAsync(queue), Is.Empty, "no job inserted");
    }

    [Test, Description("Overlap=Skip with CatchUp=All: ten seconds missed; the first missed occurrence fires, and while its job is Pending the schedule waits at the next one instead of skipping to now; once the job finished, the next fires.")]
    public async Task Catch_up_waits_for_the_previous_job_when_overlap_is_skip()
    {
        var queue = TestWorker.UniqueQueue();
        var key = $"{queue}-catchup";
        await RecurringLedger.Control.AddAsync(queue, key, EverySecond, "noop", null, "UTC", CancellationToken.None);
        await ExecuteAsync($"UPDATE recurring_jobs SET catch_up = 'All', next_run_at = date_trunc('second', now()) - interval '10 seconds' WHERE key = '{key}'");
        var scheduler = Scheduler(queue, []);

        await scheduler.TickAsync(CancellationToken.None);
        var afterFirst = await RecurringLedger.Control.FindAsync(key, CancellationToken.None);
        await scheduler.TickAsync(CancellationToken.None);
        var whileBusy = await RecurringLedger.Control.FindAsync(key, CancellationToken.None);
        var runsWhileBusy = await RecurringLedger.RunsAsync(queue);
        await ExecuteAsync($"UPDATE jobs SET state = 'Succeeded', finished_at = now() WHERE queue = '{queue}'");
        await scheduler.TickAsync(CancellationToken.None);
        var afterSecond = await RecurringLedger.Control.FindAsync(key, CancellationToken.None);

        Assert.That(runsWhileBusy, Has.Count.EqualTo(1), "one occurrence at a time");
        Assert.That(whileBusy?.NextRunAt, Is.EqualTo(afterFirst?.NextRunAt), "held at the next missed occurrence while the job is Pending");
        Assert.That(whileBusy?.LastSkippedAt, Is.Null, "waiting is not skipping");
        Assert.That(afterSecond?.NextRunAt, Is.EqualTo(afterFirst?.NextRunAt?.AddSeconds(1)), "the held occurrence fired once the job finished");
        Assert.That(await RecurringLedger.RunsAsync(queue), Has.Count.EqualTo(2));
        Assert.That(scheduler.Failures, Is.Zero);
    }

    private static RecurringScheduler Scheduler(string queue, RecurringDefinition[] code, ILoggerProvider? logs = null) => new(
        new RecurringStore(TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()), TransitionResilience.None),
        new RecurringDefinitions(new ConfigurationBuilder().Build(), code),
        Options.Create(new RecurringOptions { PollInterval = TimeSpan.FromMilliseconds(200), MisfireThreshold = TimeSpan.FromSeconds(2) }),
        Options.Create(new JobOptions { QueueName = queue }), Options.Create(new SubmissionOptions()),
        logs is null ? NullLogger<RecurringScheduler>.Instance : new Logger<RecurringScheduler>(LoggerFactory.Create(b => b.AddProvider(logs))));

    private static RecurringDefinition Code(string key) =>
        new(key, EverySecond, "noop", "null", "UTC", null, null, RecurringOverlap.Skip, RecurringCatchUp.None, null, RecurringSource.Code);

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
