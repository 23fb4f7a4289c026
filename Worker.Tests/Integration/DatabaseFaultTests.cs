using JobWorker.Contracts;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>The database misbehaves while jobs run: connections killed, server restarted, server down for a while.</summary>
[Category("Slow")]
public sealed class DatabaseFaultTests
{
    private static List<SubmitJob> Jobs(int count) =>
        [.. Enumerable.Range(0, count).Select(i => TestJobs.Submit("delay", new { ms = 5 + i % 4 * 5 }))];

    /// <summary>
    /// Stops PostgreSQL until the worker has paused consumption and at least <paramref name="outage"/> has passed, then
    /// starts it again. Returns whether readiness said Ready during the outage.
    /// </summary>
    private static async Task<bool> StopDatabaseUntilPausedAsync(FaultScenario scenario, TimeSpan outage)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await LocalServices.StopAsync("postgres");
        try
        {
            await Eventually.WaitForAsync(() => Task.FromResult(scenario.Output.Contains("Consumption paused", StringComparison.Ordinal)),
                paused => paused, TimeSpan.FromSeconds(20), "the worker to pause consumption");
            var ready = await scenario.Workers[0].IsReadyAsync();
            await Task.Delay(outage - clock.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
            return ready;
        }
        finally
        {
            await LocalServices.StartAsync("postgres");
        }
    }

    [Test]
    public async Task Killing_every_worker_connection_mid_run_resets_the_pool_and_every_job_succeeds_once()
    {
        await using var scenario = await FaultScenario.StartAsync();
        var jobs = Jobs(2_000);
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 200);

        var terminated = 0L;
        for (var round = 0; round < 5; round++)
        {
            terminated += await FaultScenario.TerminateWorkerConnectionsAsync();
            await Task.Delay(300);
        }

        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(120));
        Assert.That(terminated, Is.GreaterThan(0), "the fault must have hit live connections");
        Assert.That(scenario.Output, Does.Contain("Database connection pool cleared"), "a pool reset must be recorded");
    }

    [Test]
    public async Task A_database_restart_mid_run_resets_the_pool_and_every_job_succeeds_once()
    {
        await using var scenario = await FaultScenario.StartAsync();
        var jobs = Jobs(1_500);
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 200);

        await LocalServices.RestartAsync("postgres");

        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(120));
        Assert.That(scenario.Output, Does.Contain("Database connection pool cleared"));
    }

    [Test]
    public async Task While_the_database_is_down_consumption_pauses_and_resumes_on_its_own_with_nothing_in_the_error_queue()
    {
        await using var scenario = await FaultScenario.StartAsync();
        var jobs = Jobs(1_500);
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 200);

        // 10 s: well past the lease (4 s here) and the breaker's sampling (5 s), so the outage stops the handlers that were
        // running (their jobs run again) and the breaker probes a dead database many times before it comes back.
        var readyDuringOutage = await StopDatabaseUntilPausedAsync(scenario, TimeSpan.FromSeconds(10));

        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(120), ranOnce: false);
        Assert.That(readyDuringOutage, Is.False, "readiness must say the worker cannot take jobs while the database is down");
        Assert.That(scenario.Output, Does.Contain("Consumption resumed"));
    }

    [Test]
    public async Task A_job_running_through_a_short_database_outage_is_not_interrupted_and_consumption_resumes()
    {
        await using var scenario = await FaultScenario.StartAsync(settings: new()
        {
            ["Jobs:LeaseDuration"] = "00:00:30",
            ["Resilience:BreakerMinimumThroughput"] = "4",
        });
        var job = TestJobs.Submit("delay", new { ms = 15_000 });
        await scenario.SubmitAsync([job]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, TimeSpan.FromSeconds(30));

        var readyDuringOutage = await StopDatabaseUntilPausedAsync(scenario, TimeSpan.Zero);

        var after = TestJobs.Submit("noop");
        await scenario.SubmitAsync([after]);
        await scenario.AssertWholePromiseAsync([job, after], TimeSpan.FromSeconds(60));
        Assert.That(readyDuringOutage, Is.False);
        Assert.That(scenario.Output, Does.Contain("Consumption resumed"));
        Assert.That(scenario.Output, Does.Not.Contain("stopping its handler"), "the pause never touches a running handler");
    }
}
