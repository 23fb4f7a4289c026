using JobWorker.Jobs;

namespace JobWorker.Tests.Dashboard;

/// <summary>The Limits page, and the concurrency key on a job's page.</summary>
public sealed class LimitsDashboardTests
{
    [Test]
    public async Task Limits_page_shows_each_limited_type_with_its_places_and_keys_and_the_job_page_its_key()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(new()
        {
            ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString(),
            ["Limits:delay:Concurrency"] = "50", ["Limits:delay:PerKeyConcurrency"] = "1",
        });
        var key = $"tenant-{Guid.NewGuid():N}";
        var job = new NewJob(Guid.NewGuid(), "delay", """{"ms": 1}""", 3, null, null, Queue: TestWorker.UniqueQueue(), ConcurrencyKey: key);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
        var claim = await TestJobs.Store.ClaimLimitedAsync(job.Id, new LimitRule("delay", 50, 1, null), "elsewhere", Guid.NewGuid(), TimeSpan.FromSeconds(20), CancellationToken.None);
        using var http = new DashboardHttp(port);

        var overview = await http.Client.GetStringAsync("/dashboard/");
        var page = await http.Client.GetStringAsync("/dashboard/limits");
        var jobPage = await http.Client.GetStringAsync($"/dashboard/jobs/{job.Id}");
        // Its place would count against any later test's limit of delay until its lease lapsed.
        await TestJobs.ExecuteAsync("DELETE FROM jobs WHERE id = $1", job.Id);

        Assert.That(claim.Claimed, Is.Not.Null);
        Assert.That(overview, Does.Contain("href=\"/dashboard/limits\""), "the navigation links the page");
        Assert.That(page, Does.Contain("id=\"limit-delay\"").And.Contain("50 at once, 1 per key").And.Contain($"{key}: 1"));
        Assert.That(jobPage, Does.Contain("Concurrency key").And.Contain(key));
    }
}
