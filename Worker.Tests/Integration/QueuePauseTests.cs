using System.Net;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Integration;

/// <summary>An operator's pause of a queue, held across replicas and restarts by the ledger alone.</summary>
public sealed class QueuePauseTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Several dispatcher and watcher ticks (the test workers tick every 100 ms).</summary>
    private static readonly TimeSpan FewTicks = TimeSpan.FromSeconds(2);

    private static QueueControl Queues { get; } = new(TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()));

    [Test]
    public async Task Paused_queue_starts_no_job_on_two_replicas_while_a_running_one_finishes_and_resume_runs_the_backlog()
    {
        await using var first = await TestWorker.StartAsync();
        await using var second = await TestWorker.StartAsync(new() { ["Jobs:QueueName"] = first.Queue });
        await using var client = await TestClient.StartAsync(first.Queue);
        var running = TestJobs.Submit("delay", new { ms = 2_000 });
        await client.SendAsync(first.Queue, [running]);
        await TestJobs.WaitForStateAsync(running.JobId, JobState.Running, Timeout);

        await Queues.PauseAsync(first.Queue, "test", "deploying the payments service", CancellationToken.None);
        // Sent at once, so some race the replicas' next tick and meet the claim's refusal rather than a stopped endpoint.
        var backlog = TestJobs.Delays(20, 10);
        await client.SendAsync(first.Queue, backlog);
        await Task.Delay(FewTicks);
        var whilePaused = await TestJobs.CountAsync(backlog);
        var finished = await TestJobs.WaitForStateAsync(running.JobId, JobState.Succeeded, Timeout);
        var states = new[] { first, second }.Select(w => w.Services.GetRequiredService<ConsumptionControl>().State).ToList();

        await Queues.ResumeAsync(first.Queue, CancellationToken.None);
        var afterResume = await TestJobs.WaitUntilFinishedAsync(backlog, Timeout);

        // Each waits either in RabbitMQ (the endpoint was stopped) or in the ledger as Pending (its claim was refused).
        Assert.That(whilePaused.Where(c => c.Key != JobState.Pending).Sum(c => c.Value), Is.Zero, TestJobs.Describe(whilePaused));
        Assert.That(finished.State, Is.EqualTo(JobState.Succeeded), "a job running when the queue was paused finishes");
        Assert.That(states, Has.All.Contains("PAUSED (paused by operator since").And.All.Contains("by test (deploying the payments service)"));
        Assert.That(afterResume.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(backlog.Count), TestJobs.Describe(afterResume));
    }

    [Test]
    public async Task Pause_survives_a_restart_of_the_replica_and_readiness_stays_healthy_saying_so()
    {
        string queue;
        await using (var before = await TestWorker.StartAsync())
        {
            queue = before.Queue;
            await Queues.PauseAsync(queue, "test", null, CancellationToken.None);
        }

        await using var after = await TestWorker.StartAsync(new() { ["Jobs:QueueName"] = queue });
        await using var client = await TestClient.StartAsync(queue);
        var jobs = TestJobs.Delays(5, 10);
        await client.SendAsync(queue, jobs);
        await Task.Delay(FewTicks);
        var whilePaused = await TestJobs.CountAsync(jobs);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10), BaseAddress = new Uri(((WebApplication)after.Host).Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal)) };
        var ready = await Eventually.WaitForAsync(() => http.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK, Timeout, "the paused worker to be ready");
        var report = await ready.Content.ReadAsStringAsync();

        await Queues.ResumeAsync(queue, CancellationToken.None);
        var afterResume = await TestJobs.WaitUntilFinishedAsync(jobs, Timeout);

        Assert.That(whilePaused.Where(c => c.Key != JobState.Pending).Sum(c => c.Value), Is.Zero, TestJobs.Describe(whilePaused));
        Assert.That(report, Does.Contain("Consumption is PAUSED (paused by operator since"));
        Assert.That(afterResume.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(jobs.Count), TestJobs.Describe(afterResume));
    }

    [Test]
    public async Task Claims_and_dispatch_refuse_a_job_of_a_paused_queue_and_take_it_once_resumed()
    {
        var queue = TestWorker.UniqueQueue();
        var store = TestJobs.Store;
        await Queues.PauseAsync(queue, "test", null, CancellationToken.None);
        var raced = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Queue: queue);
        var dispatched = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Queue: queue);
        await store.AcceptAsync(dispatched, CancellationToken.None);
        await TestJobs.ExecuteAsync("UPDATE jobs SET dispatched_at = now() WHERE id = $1", dispatched.Id);

        // A delivery that raced the pause, and a message the dispatcher sent before it.
        var (_, acceptClaimed) = await store.AcceptAndClaimAsync(raced, "test", Guid.NewGuid(), TimeSpan.FromMinutes(1), CancellationToken.None);
        var claimed = await store.ClaimAsync(dispatched.Id, "test", Guid.NewGuid(), TimeSpan.FromMinutes(1), CancellationToken.None);
        var dueWhilePaused = await store.TakeDueAsync(queue, 10, TimeSpan.Zero, CancellationToken.None);
        var heldRows = await TestJobs.LoadAsync([raced.Id, dispatched.Id]);
        await Queues.ResumeAsync(queue, CancellationToken.None);
        var dueAfterResume = await store.TakeDueAsync(queue, 10, TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.That(acceptClaimed, Is.Null, "accept-claim must not start a job of a paused queue");
        Assert.That(claimed, Is.Null, "claim must not start a job of a paused queue");
        Assert.That(dueWhilePaused, Is.Empty, "the dispatcher sends nothing of a paused queue");
        Assert.That(heldRows.Select(r => (r.State, r.DispatchedAt)), Is.All.EqualTo((JobState.Pending, (DateTime?)null)), "held Pending and unsent");
        Assert.That(dueAfterResume.Select(d => d.Id), Is.EquivalentTo(new[] { raced.Id, dispatched.Id }), "resume sends the backlog");
    }

    [Test]
    public async Task Resume_of_a_queue_that_is_not_paused_changes_nothing()
    {
        var outcome = await Queues.ResumeAsync(TestWorker.UniqueQueue(), CancellationToken.None);

        Assert.That(outcome.Applied, Is.False);
        Assert.That(outcome.Message, Does.Contain("is not paused"));
    }
}
