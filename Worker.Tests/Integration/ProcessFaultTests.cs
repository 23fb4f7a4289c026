using System.Diagnostics;
using JobWorker.Contracts;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>Worker processes die, get stopped, or lose their broker while jobs run; the ledger carries every job through.</summary>
[Category("Slow")]
public sealed class ProcessFaultTests
{
    private static List<SubmitJob> ShortJobs(int count) =>
        [.. Enumerable.Range(0, count).Select(i => TestJobs.Submit("delay", new { ms = 20 + i % 4 * 10 }))];

    [Test]
    public async Task When_one_of_two_replicas_is_killed_mid_run_the_other_finishes_every_job()
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 2);
        var jobs = Enumerable.Range(0, 300).Select(i => TestJobs.Submit("delay", new { ms = 200 + i % 5 * 100 })).ToList();
        var lastChance = Enumerable.Range(0, 20).Select(_ => TestJobs.Submit("delay", new { ms = 3_000 }, maxAttempts: 1)).ToList();
        await scenario.SubmitAsync(lastChance.Concat(jobs));
        await scenario.WaitForProgressAsync(jobs, 40);

        scenario.StoppedOnPurpose.Add(scenario.Workers[0]);
        scenario.Workers[0].Kill();

        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(120), ranOnce: false);
        var limited = await TestJobs.LoadAsync(lastChance);
        Assert.That(limited.Select(j => j.State), Is.All.Matches<JobState>(s => s is JobState.Succeeded or JobState.Failed),
            "an attempt-limited job ends in one terminal state");
        Assert.That(limited.Where(j => j.State == JobState.Failed).Select(j => j.Error),
            Is.All.Contains("stopped during the last one"), "a job whose only attempt died with its worker fails with that reason");
        Assert.That(scenario.Client.Events.CompletedMoreThanOnce(lastChance), Is.Empty);
        var takenOver = (await TestJobs.LoadAsync(jobs)).Count(j => j.Attempt > 1);
        Assert.That(takenOver + limited.Count(j => j.State == JobState.Failed), Is.GreaterThan(0),
            "the killed replica was running jobs; recovery must have handed them to the other replica");
    }

    [Test]
    public async Task On_SIGTERM_a_worker_drains_exits_zero_and_leaves_nothing_running_and_a_new_worker_finishes_the_rest()
    {
        var drain = TimeSpan.FromSeconds(3);
        await using var scenario = await FaultScenario.StartAsync(settings: new() { ["Jobs:DrainTimeout"] = "00:00:03" });
        var jobs = Enumerable.Range(0, 150).Select(i => TestJobs.Submit("delay", new { ms = 500 + i % 10 * 500 })).ToList();
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 10);

        var stopping = Stopwatch.StartNew();
        scenario.StoppedOnPurpose.Add(scenario.Workers[0]);
        scenario.Workers[0].Terminate();
        var exitCode = await scenario.Workers[0].WaitForExitAsync(drain + TimeSpan.FromSeconds(30));
        var stoppedIn = stopping.Elapsed;
        var afterStop = await TestJobs.CountAsync(jobs);
        var released = (await TestJobs.LoadAsync(jobs)).Where(j => j.State == JobState.Pending && j.Attempt > 0).ToList();

        Assert.That(exitCode, Is.Zero, scenario.Output);
        Assert.That(stoppedIn, Is.LessThan(drain + TimeSpan.FromSeconds(25)));
        Assert.That(afterStop.GetValueOrDefault(JobState.Running), Is.Zero, $"nothing may stay Running: {TestJobs.Describe(afterStop)}");
        Assert.That(scenario.Output, Does.Contain("released (the worker is stopping); now Pending"));
        Assert.That(scenario.Output, Does.Match(@"Drained: [1-9]\d* jobs stopped and released to Pending, \d+ due jobs sent to the queue"));
        Assert.That(scenario.Output, Does.Contain("Database data source disposed (0 transitions still in flight"));
        Assert.That(released.Select(j => j.MaxAttempts - j.Attempt), Is.All.GreaterThanOrEqualTo(3), "a drained attempt does not use up the budget");
        Assert.That(released.Select(j => j.DispatchedAt), Is.All.Not.Null,
            "a SubmitJob was sent for each released job, by the drain or by the dispatcher's last ticks");

        await scenario.AddWorkerAsync();
        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(120), ranOnce: false);
    }

    /// <summary>
    /// No replica dies in the broker tests, so no job may run twice; the lease is long enough that a 2-core machine busy
    /// with a broker booting and connections being killed still renews it.
    /// </summary>
    private static Dictionary<string, string?> NoRecoveryExpected() => new() { ["Jobs:LeaseDuration"] = "00:00:15" };

    [Test, Description("Two replicas run 3,000 jobs of 500 to 800 ms (about 30 s of work for their 64 slots); once 200 have succeeded, " +
                       "RabbitMQ is restarted while every worker database connection is killed every 2 s, until 3 s after the broker " +
                       "is back. One scenario for both faults: each alone was a run of its own, and the combination checks everything " +
                       "either did. The load must outlast the stop, which begins seconds after it is asked for (short jobs were all " +
                       "done before the broker went down), so the test checks that jobs were left when it was down.")]
    public async Task A_broker_restart_under_load_while_database_connections_are_killed_keeps_the_whole_promise()
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 2, settings: NoRecoveryExpected());
        var jobs = Enumerable.Range(0, 3_000).Select(i => TestJobs.Submit("delay", new { ms = 500 + i % 4 * 100 })).ToList();
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 200);

        using var stopKilling = new CancellationTokenSource();
        var killing = Task.Run(async () =>
        {
            var terminated = 0L;
            while (!stopKilling.IsCancellationRequested)
            {
                terminated += await FaultScenario.TerminateWorkerConnectionsAsync();
                await Task.Delay(2_000, CancellationToken.None);
            }

            return terminated;
        });
        var stopping = Stopwatch.StartNew();
        await LocalServices.StopAsync("rabbitmq");
        var leftWhenDown = jobs.Count - (await TestJobs.CountAsync(jobs)).GetValueOrDefault(JobState.Succeeded);
        TestContext.Out.WriteLine($"broker stopped in {stopping.Elapsed.TotalSeconds:F1} s with {leftWhenDown} jobs still to succeed");
        await LocalServices.StartAsync("rabbitmq");
        TestContext.Out.WriteLine($"broker back {stopping.Elapsed.TotalSeconds:F1} s after the stop began");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stopKilling.CancelAsync();
        var terminated = await killing.WaitAsync(TimeSpan.FromSeconds(30));

        // Every job succeeded once, one JobStarted and a JobSucceeded each, nothing finished twice or dead-lettered, no slot
        // in flight, every replica up and ready.
        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(180));
        Assert.That(leftWhenDown, Is.GreaterThan(0), "the broker went down while jobs were still to run");
        Assert.That(terminated, Is.GreaterThan(0), "the fault must have hit live connections");
        Assert.That(scenario.Output, Does.Contain("Database connection pool cleared"), "a pool reset must be recorded");
    }

    [Test, Description("RabbitMQ's consumer_timeout lowered to 3 s and checked every second (a channel checks it on its tick, " +
                       "every 60 s by default, which a shorter test would never reach): a 10 s job and a 6 s neighbour each run " +
                       "whole, once.")]
    public async Task A_job_longer_than_the_brokers_consumer_timeout_succeeds_on_its_first_attempt_and_its_neighbour_runs_once()
    {
        await LocalServices.SetConsumerTimeoutAsync(TimeSpan.FromSeconds(3), checkEvery: TimeSpan.FromSeconds(1));
        try
        {
            await using var scenario = await FaultScenario.StartAsync(settings: new() { ["Jobs:LeaseDuration"] = "00:00:30" });
            var longJob = TestJobs.Submit("delay", new { ms = 10_000 }, maxAttempts: 3);
            var neighbour = TestJobs.Submit("delay", new { ms = 6_000 }, maxAttempts: 3);

            await scenario.SubmitAsync([longJob, neighbour]);

            await scenario.AssertWholePromiseAsync([longJob, neighbour], TimeSpan.FromSeconds(90));
            var rows = await TestJobs.LoadAsync([longJob, neighbour]);
            Assert.That(rows.Select(r => r.FinishedAt - r.StartedAt), Is.All.GreaterThan(TimeSpan.FromSeconds(5.5)),
                "each ran whole, in one attempt, through the broker's timeout");
        }
        finally
        {
            await LocalServices.SetConsumerTimeoutAsync(TimeSpan.FromMinutes(30), checkEvery: TimeSpan.FromSeconds(60));
        }
    }

    [Test]
    public async Task A_running_job_whose_owner_is_killed_and_whose_message_is_purged_is_finished_by_another_replica()
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 2);
        var job = TestJobs.Submit("delay", new { ms = 6_000 }, maxAttempts: 3);
        await scenario.SubmitAsync([job]);
        var running = await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, TimeSpan.FromSeconds(30));

        var killedAt = Stopwatch.StartNew();
        var owner = scenario.KillOwner(running.Owner!);
        using (var rabbit = new RabbitManagement())
        {
            await rabbit.PurgeQueueAsync(scenario.Queue);
        }

        var taken = await Eventually.WaitForAsync(() => TestJobs.Store.FindAsync(job.JobId, CancellationToken.None),
            j => j is { State: JobState.Running, Attempt: 2 }, TimeSpan.FromSeconds(20), "another replica to run the job");
        var recoveredIn = killedAt.Elapsed;
        await scenario.AssertWholePromiseAsync([job], TimeSpan.FromSeconds(30), ranOnce: false);

        Assert.That(taken!.Owner, Does.Not.Contain($"-{owner.Id}-"));
        Assert.That(recoveredIn, Is.LessThan(TimeSpan.FromSeconds(4 + 0.5 + 5)), "within the lease, a tick, and slack for a loaded machine");
    }

    [Test]
    public async Task A_cancel_that_arrives_while_a_dead_owners_lease_is_live_ends_the_job_cancelled_once()
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 2);
        var job = TestJobs.Submit("delay", new { ms = 60_000 }, maxAttempts: 3);
        await scenario.SubmitAsync([job]);
        var running = await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, TimeSpan.FromSeconds(30));
        scenario.KillOwner(running.Owner!);

        await scenario.Client.PublishAsync(new CancelJob { JobId = job.JobId, Reason = "owner gone" });

        var cancelled = await TestJobs.WaitForStateAsync(job.JobId, JobState.Cancelled, TimeSpan.FromSeconds(20));
        Assert.That(cancelled.Error, Is.EqualTo("owner gone"));
        Assert.That(cancelled.Attempt, Is.EqualTo(1), "it never ran again");
        await Eventually.WaitForAsync(() => Task.FromResult(scenario.Client.Events.Cancelled(job.JobId)), n => n == 1,
            TimeSpan.FromSeconds(20), "one JobCancelled");
        Assert.That(scenario.Client.Events.CompletedMoreThanOnce([job]), Is.Empty);
        await scenario.AssertReplicasIdleAndReadyAsync();
    }

    [Test]
    public async Task A_scheduled_job_runs_no_earlier_than_its_time_and_within_a_tick_even_when_the_only_worker_restarts_in_between()
    {
        await using var scenario = await FaultScenario.StartAsync();
        var job = TestJobs.Submit("delay", new { ms = 10 }) with { RunAt = DateTime.UtcNow.AddSeconds(12) };
        await scenario.SubmitAsync([job]);
        var accepted = await TestJobs.WaitForStateAsync(job.JobId, JobState.Pending, TimeSpan.FromSeconds(10));

        scenario.StoppedOnPurpose.Add(scenario.Workers[0]);
        scenario.Workers[0].Terminate();
        Assert.That(await scenario.Workers[0].WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero);
        await scenario.AddWorkerAsync();

        await scenario.AssertWholePromiseAsync([job], TimeSpan.FromSeconds(40));
        var done = (await TestJobs.LoadAsync([job])).Single();
        Assert.That(done.StartedAt, Is.GreaterThanOrEqualTo(accepted.RunAt), "never before its time");
        Assert.That(done.StartedAt - accepted.RunAt, Is.LessThan(TimeSpan.FromSeconds(0.5 + 1.5)), "within a tick, and slack for the consume");
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
        Assert.That(cancelled.FinishedAt - cancelled.StartedAt, Is.LessThan(TimeSpan.FromSeconds(30)), "stopped, not waited out");
        Assert.That(scenario.Output, Does.Contain("cancelling its running handler"));
        await Eventually.WaitForAsync(() => Task.FromResult(scenario.Client.Events.Cancelled(job.JobId)), n => n == 1,
            TimeSpan.FromSeconds(20), "one JobCancelled");
        await scenario.AssertReplicasIdleAndReadyAsync();
    }
}
