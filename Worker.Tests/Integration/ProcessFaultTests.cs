using JobWorker.Contracts;
using JobWorker.Jobs;

namespace JobWorker.Tests.Integration;

/// <summary>Worker processes die, get stopped, or lose their broker while jobs run.</summary>
[Category("Slow")]
public sealed class ProcessFaultTests
{
    [Test]
    public async Task When_one_of_two_replicas_is_killed_mid_run_the_other_finishes_every_job_exactly_once()
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 2);
        var jobs = Enumerable.Range(0, 300).Select(i => TestJobs.Submit("delay", new { ms = 200 + i % 5 * 100 })).ToList();
        var lastChance = Enumerable.Range(0, 20).Select(_ => TestJobs.Submit("delay", new { ms = 3_000 }, maxAttempts: 1)).ToList();
        await scenario.SubmitAsync(lastChance.Concat(jobs));
        await scenario.WaitForProgressAsync(jobs, 40);

        scenario.Workers[0].Kill();

        await scenario.AssertAllSucceededOnceAsync(jobs, TimeSpan.FromSeconds(120), everyEventArrives: false);
        var limited = await TestJobs.LoadAsync(lastChance);
        Assert.That(limited.Select(j => j.State), Is.All.Matches<JobState>(s => s is JobState.Succeeded or JobState.Failed),
            "an attempt-limited job ends in one terminal state");
        Assert.That(limited.Where(j => j.State == JobState.Failed).Select(j => j.Error),
            Is.All.Contains("stopped during the last one"), "a job whose only attempt died with its worker fails with that reason");
        Assert.That(scenario.Client.Events.CompletedMoreThanOnce(lastChance), Is.Empty);
        var takenOver = (await TestJobs.LoadAsync(jobs)).Count(j => j.Attempt > 1);
        Assert.That(takenOver + limited.Count(j => j.State == JobState.Failed), Is.GreaterThan(0),
            "the killed replica was running jobs; another replica must have taken them over");
    }

    [Test]
    public async Task On_SIGTERM_a_worker_drains_exits_zero_and_leaves_nothing_running_and_a_new_worker_finishes_the_rest()
    {
        var drain = TimeSpan.FromSeconds(3);
        await using var scenario = await FaultScenario.StartAsync(settings: new() { ["Jobs:DrainTimeout"] = "00:00:03" });
        var jobs = Enumerable.Range(0, 150).Select(i => TestJobs.Submit("delay", new { ms = 500 + i % 10 * 500 })).ToList();
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 10);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        scenario.Workers[0].Terminate();
        var exitCode = await scenario.Workers[0].WaitForExitAsync(drain + TimeSpan.FromSeconds(15));
        var stoppedIn = stopping.Elapsed;
        var afterStop = await TestJobs.CountAsync(jobs);

        Assert.That(exitCode, Is.Zero, scenario.Output);
        Assert.That(stoppedIn, Is.LessThan(drain + TimeSpan.FromSeconds(10)));
        Assert.That(afterStop.GetValueOrDefault(JobState.Running), Is.Zero, $"nothing may stay Running: {TestJobs.Describe(afterStop)}");
        Assert.That(scenario.Output, Does.Contain("released to Pending (applied) and requeued"));
        Assert.That(scenario.Output, Does.Contain("Database data source disposed (0 transitions still in flight"));

        scenario.Workers.Add(await WorkerProcess.StartWorkerAsync(scenario.Queue, FaultScenario.FastRecovery()));
        await scenario.AssertAllSucceededOnceAsync(jobs, TimeSpan.FromSeconds(120));
    }

    [Test]
    public async Task A_broker_restart_mid_run_is_ridden_out_and_every_job_succeeds_once()
    {
        await using var scenario = await FaultScenario.StartAsync();
        var jobs = Enumerable.Range(0, 1_000).Select(i => TestJobs.Submit("delay", new { ms = 20 + i % 4 * 10 })).ToList();
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 100);

        await LocalServices.RestartAsync("rabbitmq");

        await scenario.AssertAllSucceededOnceAsync(jobs, TimeSpan.FromSeconds(150), everyEventArrives: false);
        Assert.That(scenario.Workers[0].HasExited, Is.False);
    }

    [Test]
    public async Task A_published_CancelJob_reaches_the_replica_running_the_job()
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 2);
        var job = TestJobs.Submit("delay", new { ms = 60_000 });
        await scenario.SubmitAsync([job]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, TimeSpan.FromSeconds(30));

        await scenario.Client.PublishAsync(new CancelJob { JobId = job.JobId, Reason = "operator request" });

        var cancelled = await TestJobs.WaitForStateAsync(job.JobId, JobState.Cancelled, TimeSpan.FromSeconds(30));
        Assert.That(cancelled.Error, Is.EqualTo("operator request"));
        Assert.That(cancelled.Attempt, Is.EqualTo(1));
        Assert.That(scenario.Output, Does.Contain("cancelling its running handler"));
    }
}
