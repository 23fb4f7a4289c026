using JobWorker.Contracts;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobWorker.Tests.Integration;

/// <summary>Continuations (<c>SubmitJob.After</c>) on a real worker: held Awaiting, released once by the releaser, or cancelled.</summary>
public sealed class ContinuationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The releaser ticks every 100 ms in these tests (1 s by default).</summary>
    private static readonly Dictionary<string, string?> FastRelease = new() { ["Continuations:Interval"] = "00:00:00.100" };

    private static SubmitJob After(string type, object? payload, params Guid[] parents) =>
        TestJobs.Submit(type, payload) with { After = parents };

    [Test, Description("B is Awaiting while A runs, and starts only once A has Succeeded. Both rows are read in one snapshot, so a slow machine cannot reorder what is seen.")]
    public async Task Child_runs_only_after_its_parent_succeeded()
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var parent = TestJobs.Submit("delay", new { ms = 3_000 });
        var child = After(RecordingJobHandler.JobType, null, parent.JobId);

        await client.SendAsync(worker.Queue, [child]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Awaiting, Timeout);
        await client.SendAsync(worker.Queue, [parent]);
        var whileParentRuns = await Eventually.WaitForAsync(
            () => TestJobs.LoadAsync([parent.JobId, child.JobId]),
            rows => rows.Any(r => r.Id == parent.JobId && r.State != JobState.Pending),
            Timeout,
            "the parent to start");
        var ran = await TestJobs.WaitForStateAsync(child.JobId, JobState.Succeeded, Timeout);
        var finishedParent = (await TestJobs.FindAsync(parent.JobId))!;

        Assert.That(whileParentRuns.Single(r => r.Id == parent.JobId).State, Is.EqualTo(JobState.Running), "seen while it ran (3 s)");
        Assert.That(whileParentRuns.Single(r => r.Id == child.JobId).State, Is.EqualTo(JobState.Awaiting), "held, in the same snapshot, while its parent runs");
        Assert.That(finishedParent.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(ran.StartedAt, Is.GreaterThanOrEqualTo(finishedParent.FinishedAt!.Value));
        Assert.That(ran.Attempt, Is.EqualTo(1));
        Assert.That(await TestJobs.HistoryAsync(child.JobId), Is.EqualTo(new[] { "Continued@0", "Started@1", "Succeeded@1" }));
    }

    [Test]
    public async Task Child_ends_Cancelled_naming_the_parent_when_the_parent_fails()
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var parent = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 5 }, maxAttempts: 1);
        var child = After(RecordingJobHandler.JobType, null, parent.JobId);

        await client.SendAsync(worker.Queue, [parent, child]);
        var cancelled = await TestJobs.WaitForStateAsync(child.JobId, JobState.Cancelled, Timeout);
        await Eventually.WaitForAsync(() => Task.FromResult(client.Events.Cancelled(child.JobId)), n => n > 0, Timeout, "JobCancelled of the child");

        Assert.That(cancelled.Error, Is.EqualTo($"Parent job {parent.JobId} ended Failed."));
        Assert.That(worker.Runs.For(child.JobId), Is.Zero);
        Assert.That(client.Events.Cancelled(child.JobId), Is.EqualTo(1));
    }

    [Test]
    public async Task Child_with_AfterAny_runs_when_its_parent_fails()
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var parent = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 5 }, maxAttempts: 1);
        var child = After(RecordingJobHandler.JobType, null, parent.JobId) with { AfterAny = true };

        await client.SendAsync(worker.Queue, [parent, child]);
        var ran = await TestJobs.WaitForStateAsync(child.JobId, JobState.Succeeded, Timeout);

        Assert.That((await TestJobs.FindAsync(parent.JobId))!.State, Is.EqualTo(JobState.Failed));
        Assert.That(worker.Runs.For(child.JobId), Is.EqualTo(1));
        Assert.That(ran.StartedAt, Is.GreaterThanOrEqualTo((await TestJobs.FindAsync(parent.JobId))!.FinishedAt!.Value));
    }

    [Test, Description("100 parents finishing close together, two replicas releasing: the child is released and run exactly once, after the last parent.")]
    public async Task Fan_in_of_100_parents_releases_the_child_once_across_two_replicas()
    {
        await using var first = await TestWorker.StartAsync(FastRelease);
        await using var second = await TestWorker.StartAsync(TestWorker.Overlay(new() { ["Jobs:QueueName"] = first.Queue }, FastRelease));
        await using var client = await TestClient.StartAsync(first.Queue);
        var parents = Enumerable.Range(0, 100).Select(i => TestJobs.Submit(RecordingJobHandler.JobType, new { ms = 10 * (i % 10) })).ToList();
        var child = After(RecordingJobHandler.JobType, null, [.. parents.Select(p => p.JobId)]);

        await client.SendAsync(first.Queue, [child, .. parents]);
        var ran = await TestJobs.WaitForStateAsync(child.JobId, JobState.Succeeded, Timeout);
        var lastParent = (await TestJobs.LoadAsync(parents)).Max(p => p.FinishedAt);
        await Eventually.WaitForAsync(() => Task.FromResult(client.Events.Started(child.JobId)), n => n > 0, Timeout, "JobStarted of the child");

        Assert.That(first.Runs.For(child.JobId) + second.Runs.For(child.JobId), Is.EqualTo(1));
        Assert.That(ran.Attempt, Is.EqualTo(1));
        Assert.That(ran.StartedAt, Is.GreaterThanOrEqualTo(lastParent!.Value));
        Assert.That(await TestJobs.HistoryAsync(child.JobId), Is.EqualTo(new[] { "Continued@0", "Started@1", "Succeeded@1" }));
        Assert.That(client.Events.Started(child.JobId), Is.EqualTo(1));
    }

    [Test, Description("A child whose parents had all finished long before it arrived (beyond the releaser's recent window) runs at once, not after the next sweep (1 min).")]
    public async Task Child_of_a_parent_that_finished_long_before_runs_at_once()
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var parent = TestJobs.Submit(RecordingJobHandler.JobType);
        await client.SendAsync(worker.Queue, [parent]);
        await TestJobs.WaitForStateAsync(parent.JobId, JobState.Succeeded, Timeout);
        await TestJobs.ExecuteAsync("UPDATE jobs SET finished_at = now() - interval '1 hour' WHERE id = $1", parent.JobId);
        var child = After(RecordingJobHandler.JobType, null, parent.JobId);

        await client.SendAsync(worker.Queue, [child]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Succeeded, TimeSpan.FromSeconds(20));

        Assert.That(worker.Runs.For(child.JobId), Is.EqualTo(1));
        Assert.That(await TestJobs.HistoryAsync(child.JobId), Is.EqualTo(new[] { "Continued@0", "Started@1", "Succeeded@1" }));
    }

    [Test]
    public async Task Child_waits_for_a_parent_submitted_after_it()
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var parent = TestJobs.Submit(RecordingJobHandler.JobType);
        var child = After(RecordingJobHandler.JobType, null, parent.JobId);

        await client.SendAsync(worker.Queue, [child]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Awaiting, Timeout);
        await Task.Delay(TimeSpan.FromSeconds(1)); // ten releaser ticks with the parent missing
        var beforeParent = (await TestJobs.FindAsync(child.JobId))!.State;
        await client.SendAsync(worker.Queue, [parent]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Succeeded, Timeout);

        Assert.That(beforeParent, Is.EqualTo(JobState.Awaiting));
        Assert.That(worker.Runs.For(child.JobId), Is.EqualTo(1));
    }

    [Test, Description("The parent is sent only once the cancel is recorded, so its success cannot race the CancelJob; the child stays Cancelled after it.")]
    public async Task CancelJob_cancels_an_Awaiting_child_which_never_runs()
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var parent = TestJobs.Submit(RecordingJobHandler.JobType);
        var child = After(RecordingJobHandler.JobType, null, parent.JobId);
        await client.SendAsync(worker.Queue, [child]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Awaiting, Timeout);

        await client.PublishAsync(new CancelJob { JobId = child.JobId, Reason = "not needed" });
        var cancelled = await TestJobs.WaitForStateAsync(child.JobId, JobState.Cancelled, Timeout);
        await client.SendAsync(worker.Queue, [parent]);
        await TestJobs.WaitForStateAsync(parent.JobId, JobState.Succeeded, Timeout);
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // several releaser ticks after the parent's success

        Assert.That(cancelled.Error, Is.EqualTo("not needed"));
        Assert.That((await TestJobs.FindAsync(child.JobId))!.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(worker.Runs.For(child.JobId), Is.Zero);
    }

    [Test, Description("At-least-once delivery: the same SubmitJob twice while the child is held adds nothing and runs nothing.")]
    public async Task Redelivered_SubmitJob_of_an_Awaiting_child_is_acknowledged_without_running_it()
    {
        var logs = new LogCapture();
        await using var worker = await TestWorker.StartAsync(
            TestWorker.Overlay(new() { ["Logging:LogLevel:Default"] = "Information" }, FastRelease),
            worker => worker.Services.AddSingleton<ILoggerProvider>(logs));
        await using var client = await TestClient.StartAsync(worker.Queue);
        var parent = TestJobs.Submit(RecordingJobHandler.JobType);
        var child = After(RecordingJobHandler.JobType, null, parent.JobId);
        int Acknowledged() => logs.Entries.Count(e => e.Message.Contains(child.JobId.ToString(), StringComparison.Ordinal)
            && e.Message.Contains("delivery acknowledged without running the job, because it is Awaiting its parent jobs", StringComparison.Ordinal));

        await client.SendAsync(worker.Queue, [child]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Awaiting, Timeout);
        await client.SendAsync(worker.Queue, [child, child with { After = [parent.JobId, Guid.NewGuid()] }]);
        await Eventually.WaitForAsync(() => Task.FromResult(Acknowledged()), n => n >= 2, Timeout, "the redeliveries acknowledged");
        var parentsHeld = await TestJobs.Store.ParentsAsync(child.JobId, CancellationToken.None);
        await client.SendAsync(worker.Queue, [parent]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Succeeded, Timeout);

        Assert.That(parentsHeld.Select(p => p.Id), Is.EqualTo(new[] { parent.JobId }), "the first submission's parents stand");
        Assert.That(worker.Runs.For(child.JobId), Is.EqualTo(1));
    }

    [TestCase("self", "After names the job itself")]
    [TestCase("empty", "After contains an empty job id")]
    [TestCase("too many", "After lists 1001 parent jobs; the limit is 1000.")]
    [TestCase("with a delay", "Give After or RunAt/Delay, not both")]
    public async Task Invalid_After_is_rejected_with_a_clear_reason_and_the_worker_keeps_running(string what, string reason)
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var job = TestJobs.Submit(RecordingJobHandler.JobType);
        job = what switch
        {
            "self" => job with { After = [job.JobId] },
            "empty" => job with { After = [Guid.NewGuid(), Guid.Empty] },
            "too many" => job with { After = [.. Enumerable.Range(0, 1001).Select(_ => Guid.NewGuid())] },
            _ => job with { After = [Guid.NewGuid()], Delay = TimeSpan.FromMinutes(1) },
        };
        var next = TestJobs.Submit(RecordingJobHandler.JobType);

        await client.SendAsync(worker.Queue, [job]);
        var rejected = await TestJobs.WaitForStateAsync(job.JobId, JobState.Failed, Timeout);
        await client.SendAsync(worker.Queue, [next]);
        await TestJobs.WaitForStateAsync(next.JobId, JobState.Succeeded, Timeout);

        Assert.That(rejected.Error, Does.Contain(reason));
        Assert.That(worker.Runs.For(job.JobId), Is.Zero);
    }

    [Test]
    public async Task GetJobStatus_of_an_Awaiting_child_names_the_parents_it_still_waits_for()
    {
        await using var worker = await TestWorker.StartAsync(FastRelease);
        await using var client = await TestClient.StartAsync(worker.Queue);
        var done = TestJobs.Submit(RecordingJobHandler.JobType);
        var missing = Guid.NewGuid();
        await client.SendAsync(worker.Queue, [done]);
        await TestJobs.WaitForStateAsync(done.JobId, JobState.Succeeded, Timeout);
        var child = After(RecordingJobHandler.JobType, null, done.JobId, missing);
        await client.SendAsync(worker.Queue, [child]);
        await TestJobs.WaitForStateAsync(child.JobId, JobState.Awaiting, Timeout);

        var status = await client.RequestStatusAsync(child.JobId);

        Assert.That(status.State, Is.EqualTo("Awaiting"));
        Assert.That(status.WaitingFor, Is.EqualTo(new[] { missing }));
        Assert.That(status.RunAt, Is.Null);
    }
}
