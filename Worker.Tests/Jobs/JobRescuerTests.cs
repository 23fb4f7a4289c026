using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>The rescuer on the real database, scoped to a queue of its own so it never touches another test's rows.</summary>
public sealed class JobRescuerTests
{
    private static JobRescuer Rescuer(string queue) => new(
        TestJobs.Store, TestJobs.Lifecycle, TestJobs.Completer, Options.Create(new DispatchOptions()), Options.Create(new JobOptions { QueueName = queue }),
        NullLogger<JobRescuer>.Instance);

    [Test]
    public async Task Lapsed_leases_of_its_queue_are_retried_failed_or_cancelled()
    {
        var queue = TestWorker.UniqueQueue();
        var lapsed = TimeSpan.FromSeconds(-1);
        var again = await JobFactory.InsertAsync(JobState.Running, queue: queue, maxAttempts: 3, leaseLeft: lapsed, owner: "worker-dead");
        var lastAttempt = await JobFactory.InsertAsync(JobState.Running, queue: queue, maxAttempts: 1, leaseLeft: lapsed);
        var cancelRequested = await JobFactory.InsertAsync(JobState.Running, queue: queue, leaseLeft: lapsed, cancelReason: "while its owner was dead");
        var live = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var otherQueue = await JobFactory.InsertAsync(JobState.Running, queue: TestWorker.UniqueQueue(), leaseLeft: lapsed);

        var rescued = await Rescuer(queue).RescueAsync(CancellationToken.None);

        var rows = (await TestJobs.LoadAsync([again.Id, lastAttempt.Id, cancelRequested.Id, live.Id, otherQueue.Id])).ToDictionary(j => j.Id);
        Assert.That(rescued, Is.EqualTo(3));
        Assert.That(rows[again.Id].State, Is.EqualTo(JobState.Pending));
        Assert.That(rows[again.Id].Attempt, Is.EqualTo(1), "the attempt is used");
        Assert.That(rows[again.Id].RunAt, Is.GreaterThan(rows[again.Id].UpdatedAt), "due after the retry backoff, as a failed run is");
        Assert.That(rows[again.Id].Error, Does.Contain("worker-dead stopped during attempt 1"));
        Assert.That(rows[lastAttempt.Id].State, Is.EqualTo(JobState.Failed));
        Assert.That(rows[lastAttempt.Id].Error, Does.Contain("stopped during the last one"));
        Assert.That(rows[cancelRequested.Id].State, Is.EqualTo(JobState.Cancelled));
        Assert.That(rows[cancelRequested.Id].Error, Is.EqualTo("while its owner was dead"));
        Assert.That(rows[live.Id].State, Is.EqualTo(JobState.Running));
        Assert.That(rows[otherQueue.Id].State, Is.EqualTo(JobState.Running), "another deployment's job is its own rescuers'");
        Assert.That(await TestJobs.EventsAsync(again.Id), Is.EqualTo(new[] { "Retrying@1 (will retry)" }));
        Assert.That(await TestJobs.EventsAsync(cancelRequested.Id), Is.EqualTo(new[] { "Cancelled@1" }));
    }

    [Test]
    public async Task An_owner_that_renewed_after_the_rescuer_looked_keeps_its_job()
    {
        var queue = TestWorker.UniqueQueue();
        var job = await JobFactory.InsertAsync(JobState.Running, queue: queue, leaseLeft: TimeSpan.FromSeconds(-1));
        var seen = (await TestJobs.Store.LapsedAsync(queue, 10, CancellationToken.None)).Single();
        await TestJobs.Store.RenewLeasesAsync("worker-a", [(job.Id, 1)], TimeSpan.FromMinutes(1), CancellationToken.None);

        var applied = await TestJobs.ApplyAsync(TestJobs.Lifecycle.Recover(seen, TimeSpan.FromSeconds(30)));

        Assert.That(applied, Is.Null, "the recovery is fenced on the lease still being lapsed");
        Assert.That((await TestJobs.FindAsync(job.Id))!.State, Is.EqualTo(JobState.Running));
    }
}
