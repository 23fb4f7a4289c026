using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>Two worker processes on one queue, as two replicas of a deployment.</summary>
public sealed class ReplicaTests
{
    [Test]
    public async Task Two_worker_processes_share_a_queue_and_never_run_a_job_twice_even_when_it_is_published_twice()
    {
        var queue = TestWorker.UniqueQueue();
        await using var first = await TestWorker.StartProcessAsync(queue);
        await using var second = await TestWorker.StartProcessAsync(queue);
        await using var client = await TestClient.StartAsync(queue);
        var jobs = Enumerable.Range(0, 300).Select(i => TestJobs.Submit("delay", new { ms = 20 + i % 5 * 20 })).ToList();

        // Every third job is published twice, with the copies far apart, so both replicas see some duplicates.
        await client.SendAsync(queue, jobs.Concat(jobs.Where((_, i) => i % 3 == 0)));
        var counts = await TestJobs.WaitUntilFinishedAsync(jobs, TimeSpan.FromSeconds(90));

        Assert.That(counts.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(jobs.Count), TestJobs.Describe(counts));
        var rows = await TestJobs.LoadAsync(jobs);
        Assert.That(rows.Count, Is.EqualTo(jobs.Count), "one row per job id");
        Assert.That(rows.Where(r => r.Attempt != 1).Select(r => r.Id), Is.Empty, "a second claim would have raised the attempt");
        Assert.That(rows.Select(r => r.Owner).Distinct().Count(), Is.EqualTo(2), "both replicas should have run jobs");
        Assert.That(first.Output + second.Output, Does.Contain("delivery acknowledged without running the job"));
    }
}
