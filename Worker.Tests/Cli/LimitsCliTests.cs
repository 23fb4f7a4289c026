using JobWorker.Hosting;
using JobWorker.Jobs;

namespace JobWorker.Tests.Cli;

/// <summary><c>jobworker limits</c> as an operator runs it: a real process, limits from the environment, the ledger's counts.</summary>
public sealed class LimitsCliTests
{
    [Test]
    public async Task Limits_shows_places_in_use_jobs_waiting_starts_and_keys_of_each_limited_type()
    {
        var type = $"cli-limited-{Guid.NewGuid():N}";
        var rule = new LimitRule(type, 3, 1, new LimitRate(10, TimeSpan.FromMinutes(1)));
        foreach (var key in new[] { "tenant-a", "tenant-b", "tenant-a", "tenant-c" })
        {
            var job = new NewJob(Guid.NewGuid(), type, "{}", 3, null, null, ConcurrencyKey: key);
            await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
            await TestJobs.Store.ClaimLimitedAsync(job.Id, rule, "worker-a", Guid.NewGuid(), TimeSpan.FromMinutes(1), CancellationToken.None);
        }

        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
        settings[$"Limits:{type}:Concurrency"] = "3";
        settings[$"Limits:{type}:PerKeyConcurrency"] = "1";
        settings[$"Limits:{type}:Rate"] = "10/1m";
        await using var process = WorkerProcess.Start(TestWorker.Executable, settings, ["limits"]);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.That(exitCode, Is.EqualTo(0), process.Output);
        Assert.That(process.Output, Does.Contain(
            $"{type}: 3 at once, 1 per key, 10/1m starts; running 3/3; started 3/10 in the window; waiting 1; keys tenant-a=1 tenant-b=1 tenant-c=1"));
    }
}
