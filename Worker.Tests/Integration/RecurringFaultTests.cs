using System.Globalization;
using System.Text.RegularExpressions;
using JobWorker.Persistence;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>
/// A schedule every 2 s fired by three replica processes while one is SIGKILLed and started again and another is stopped
/// with SIGTERM and started again: every occurrence in a window from before the kill to after the last start runs exactly
/// once and none is missing, directly and through PgBouncer in transaction mode (both at once, to keep the suite's time).
/// </summary>
[Category("Slow")]
public sealed class RecurringFaultTests
{
    private const string EveryTwoSeconds = "*/2 * * * * *";

    [Test]
    public async Task Every_occurrence_runs_once_across_replicas_killed_and_stopped_directly_and_through_PgBouncer()
    {
        await LocalServices.StartAsync("pgbouncer");
        var throughPgBouncer = new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString(maxPoolSize: 10))
        {
            Port = TestEnvironment.PgBouncerPort,
            MaxAutoPrepare = 0,
            NoResetOnClose = true,
        }.ConnectionString;

        var outcomes = await Task.WhenAll(RunAsync("direct", null), RunAsync("pgbouncer", throughPgBouncer));

        foreach (var outcome in outcomes)
        {
            Assert.That(outcome.Missing, Is.Empty, $"{outcome.Name}: no occurrence between the first and the last is missing");
            Assert.That(outcome.Jobs, Is.EqualTo(outcome.Fired.Count), $"{outcome.Name}: one job per occurrence, no other");
            // The job id is derived from the occurrence, so a second claim of one would not show in the ledger; it would in
            // the replicas' "fired" lines. At most one fewer: the SIGKILLed replica may die between its claim and its line.
            Assert.That(outcome.Claimed, Is.InRange(outcome.Jobs - 1, outcome.Jobs), $"{outcome.Name}: each occurrence claimed by one replica only");
            Assert.That(outcome.Fired.Select(f => f.Run.State), Has.All.EqualTo(JobState.Succeeded), $"{outcome.Name}: every occurrence ran");
            // A job the SIGKILLed replica had claimed runs again once its lease lapses (at least once, as any job whose
            // worker dies); every other job ran once. So a second attempt is allowed only for an occurrence due by the
            // last fault, and never a third.
            Assert.That(outcome.Fired.Select(f => f.Run.Attempt), Has.All.InRange(1, 2), $"{outcome.Name}: no job ran more than twice");
            Assert.That(outcome.Fired.Where(f => f.Run.Attempt > 1).Select(f => f.Occurrence), Has.All.LessThanOrEqualTo(outcome.TerminatedAt),
                $"{outcome.Name}: only a job in flight at a fault ran again; every later one ran once");
            // The window is what the faults need, no longer: it opens before the kill and closes after the last replica started.
            Assert.That(outcome.Fired, Is.Not.Empty, $"{outcome.Name}: the schedule fired");
            Assert.That(outcome.Fired[0].Occurrence, Is.LessThan(outcome.KilledAt), $"{outcome.Name}: the window opens before the kill");
            Assert.That(outcome.Fired[^1].Occurrence, Is.GreaterThan(outcome.LastStartedAt), $"{outcome.Name}: the window closes after the last start");
            Assert.That(outcome.TerminatedExitCode, Is.Zero, $"{outcome.Name}: the replica stopped with SIGTERM drained and exited cleanly");
        }
    }

    private static async Task<Outcome> RunAsync(string name, string? connectionString)
    {
        var key = $"every-2s-{name}-{Guid.NewGuid():N}"[..30];
        // Overlap=Allow: the subject is the claim. With Skip, an occurrence whose predecessor is still Pending (it happens
        // while three processes start on two cores) is skipped by design, which this test would count as missing.
        var settings = new Dictionary<string, string?>
        {
            [$"Recurring:{key}:Cron"] = EveryTwoSeconds, [$"Recurring:{key}:Type"] = "noop", [$"Recurring:{key}:Overlap"] = "Allow",
        };
        if (connectionString is not null)
        {
            settings["Database:ConnectionString"] = connectionString;
        }

        await using var scenario = await FaultScenario.StartAsync(workers: 3, settings);
        // Short pauses between the faults: a 2 s schedule fires at least once in each, and the window's checks say whether
        // it covered them.
        await Task.Delay(TimeSpan.FromSeconds(4));

        var killedAt = DateTime.UtcNow;
        var killed = scenario.Workers[0];
        scenario.StoppedOnPurpose.Add(killed);
        killed.Kill();
        await scenario.AddWorkerAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));

        var terminated = scenario.Workers[1];
        scenario.StoppedOnPurpose.Add(terminated);
        var terminatedAt = DateTime.UtcNow;
        terminated.Terminate();
        var exitCode = await terminated.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2));
        await scenario.AddWorkerAsync();
        var lastStartedAt = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(5));

        var runs = await Eventually.WaitForAsync(() => RecurringLedger.RunsAsync(scenario.Queue),
            r => r.All(j => j.State == JobState.Succeeded), TimeSpan.FromSeconds(60), $"{name}: every job to finish");
        var (fired, missing) = RecurringLedger.Match(key, EveryTwoSeconds, runs);
        var claimed = Regex.Matches(scenario.Output, $@"Recurring: {Regex.Escape(key)} fired (\d+) occurrence")
            .Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        return new Outcome(name, fired, missing, runs.Count, claimed, killedAt, terminatedAt, lastStartedAt, exitCode);
    }

    private sealed record Outcome(
        string Name, List<(DateTime Occurrence, RecurringRun Run)> Fired, List<DateTime> Missing, int Jobs, int Claimed, DateTime KilledAt, DateTime TerminatedAt, DateTime LastStartedAt,
        int TerminatedExitCode);
}
