using JobWorker.Jobs;
using JobWorker.Resilience;
using Microsoft.Extensions.Configuration;
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

    private static RecurringScheduler Scheduler(string queue, RecurringDefinition[] code) => new(
        new RecurringStore(TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()), TransitionResilience.None),
        new RecurringDefinitions(new ConfigurationBuilder().Build(), code),
        Options.Create(new RecurringOptions { PollInterval = TimeSpan.FromMilliseconds(200), MisfireThreshold = TimeSpan.FromSeconds(2) }),
        Options.Create(new JobOptions { QueueName = queue }), Options.Create(new SubmissionOptions()), NullLogger<RecurringScheduler>.Instance);

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
