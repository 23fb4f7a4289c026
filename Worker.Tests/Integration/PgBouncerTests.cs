using Npgsql;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>
/// The whole ledger through PgBouncer in transaction mode, as the README's PgBouncer section sets it up: every
/// transition, dispatch, recovery and outbox statement is a single statement, so no session state is needed.
/// </summary>
[Category("Slow")]
public sealed class PgBouncerTests
{
    [Test]
    public async Task Two_replicas_behind_PgBouncer_run_dispatch_retry_schedule_and_recover_jobs()
    {
        await LocalServices.StartAsync("pgbouncer");
        var throughPgBouncer = new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString(maxPoolSize: 10))
        {
            Port = TestEnvironment.PgBouncerPort,
            MaxAutoPrepare = 0,
            NoResetOnClose = true,
        }.ConnectionString;
        await using var scenario = await FaultScenario.StartAsync(workers: 2, settings: new() { ["Database:ConnectionString"] = throughPgBouncer });
        var jobs = Enumerable.Range(0, 300).Select(i => TestJobs.Submit("delay", new { ms = 10 + i % 5 * 10 })).ToList();
        var scheduled = Enumerable.Range(0, 3).Select(_ => TestJobs.Submit("noop") with { Delay = TimeSpan.FromSeconds(2) }).ToList();
        var timingOut = TestJobs.Submit("delay", new { ms = 5_000 }, maxAttempts: 2, timeout: TimeSpan.FromMilliseconds(300));
        var orphan = TestJobs.Submit("delay", new { ms = 4_000 }, maxAttempts: 3);

        await scenario.SubmitAsync([orphan]);
        var running = await TestJobs.WaitForStateAsync(orphan.JobId, JobState.Running, TimeSpan.FromSeconds(30));
        scenario.KillOwner(running.Owner!);
        await scenario.SubmitAsync([.. jobs, .. scheduled, timingOut]);

        await scenario.AssertWholePromiseAsync([.. jobs, .. scheduled], TimeSpan.FromSeconds(90));
        var retried = await Eventually.WaitForAsync(() => TestJobs.Store.FindAsync(timingOut.JobId, CancellationToken.None),
            j => j?.State == JobState.Failed, TimeSpan.FromSeconds(60), "the timing-out job to use both attempts");
        var recovered = await TestJobs.WaitForStateAsync(orphan.JobId, JobState.Succeeded, TimeSpan.FromSeconds(60));
        var late = (await TestJobs.LoadAsync(scheduled)).Select(j => j.StartedAt - j.CreatedAt);

        Assert.That(retried!.Attempt, Is.EqualTo(2), "the retry was dispatched after its backoff");
        Assert.That(retried.Error, Does.StartWith("Timed out after"));
        Assert.That(recovered.Attempt, Is.EqualTo(2), "recovery took the dead owner's job back and another replica ran it");
        Assert.That(late, Is.All.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)), "scheduled jobs ran no earlier than due");
    }
}
