using JobWorker.Jobs;
using JobWorker.Persistence;
using static Microsoft.Playwright.Assertions;

namespace JobWorker.Tests.Dashboard;

/// <summary>
/// What a job's page says about its attempts, read in a browser from a history the store and the writer recorded:
/// each attempt's outcome comes from the event that ended it, and the events table names each kind in a word and tells
/// the history-only kinds from events waiting to be published.
/// </summary>
[NonParallelizable]
public sealed class JobPageTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private TestWorker _worker = null!;
    private DashboardBrowser _browser = null!;
    private string _baseUrl = "";

    [OneTimeSetUp]
    public async Task StartWorkerAndBrowser()
    {
        var port = DashboardBrowser.FreePort();
        _worker = await TestWorker.StartAsync(new() { ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString() });
        _browser = await DashboardBrowser.LaunchAsync();
        _baseUrl = $"http://127.0.0.1:{port}";
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _browser.DisposeAsync();
        await _worker.DisposeAsync();
    }

    [Test, Description("A retried attempt, an attempt given back by a stopping worker, a final failure an operator requeued, then a success: the requeue, recorded at the failed attempt, changes neither that attempt's outcome nor the rows.")]
    public async Task Each_attempt_shows_how_it_ended()
    {
        var job = await JobFactory.InsertAsync(JobState.Pending, queue: TestWorker.UniqueQueue(), maxAttempts: 2);
        var first = await ClaimAsync(job.Id, "worker-a");
        await TestJobs.ApplyAsync(TestJobs.Lifecycle.AfterRun(first, AttemptResult.Failed("transient boom", retryable: true)) with { RetryAfter = TimeSpan.Zero });
        var second = await ClaimAsync(job.Id, "worker-b");
        await TestJobs.ApplyAsync(TestJobs.Lifecycle.Release(second, "the worker is stopping"));
        var third = await ClaimAsync(job.Id, "worker-a");
        await TestJobs.ApplyAsync(TestJobs.Lifecycle.AfterRun(third, AttemptResult.Failed("final boom", retryable: false)));
        await TestJobs.ApplyAsync(JobLifecycle.Requeue((await TestJobs.Store.LocateAsync(job.Id, CancellationToken.None))!, extraAttempts: 1));
        var fourth = await ClaimAsync(job.Id, "worker-b");
        await TestJobs.ApplyAsync(TestJobs.Lifecycle.AfterRun(fourth, AttemptResult.Succeeded(null)));
        Assert.That((await TestJobs.FindAsync(job.Id))!.State, Is.EqualTo(JobState.Succeeded), "the history was recorded as arranged");

        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/dashboard/jobs/{job.Id}");
        await Expect(page.Locator(".job-head .state")).ToHaveTextAsync("Succeeded");

        Assert.That(await page.Locator("#attempts tbody tr td:first-child").AllInnerTextsAsync(), Is.EqualTo(new[] { "1", "2", "3", "4" }));
        Assert.That(await page.Locator("#attempts tbody tr td:nth-child(2)").AllInnerTextsAsync(), Is.EqualTo(new[] { "worker-a", "worker-b", "worker-a", "worker-b" }));
        Assert.That(await page.Locator("#attempts tbody tr td:last-child").AllInnerTextsAsync(), Is.EqualTo(new[]
        {
            "failed, retried: transient boom", "given back unused: the worker is stopping", "failed: final boom", "succeeded",
        }));
        Assert.That(await EventsAsync(page), Is.EqualTo(new[]
        {
            "Started@1", "Retrying@1", "Started@2", "Released@2", "Started@3", "Failed@3", "Requeued@3", "Started@4", "Succeeded@4",
        }));
        var published = await page.Locator("#events tbody tr td:nth-child(4)").AllInnerTextsAsync();
        Assert.That(published.Where((_, i) => i is 3 or 6), Is.All.EqualTo("history only"), "a release and a requeue are never published");
        Assert.That(published.Where((_, i) => i is not (3 or 6)), Is.All.EqualTo("in the outbox"), "no relay serves this job's queue");
        await DashboardBrowser.ScreenshotAsync(page, "job-attempts");
    }

    [Test, Description("Rows written before the Retrying kind existed recorded a retried failure as Failed with WillRetry.")]
    public async Task A_retried_failure_recorded_by_an_earlier_version_reads_as_retried()
    {
        var job = await JobFactory.InsertAsync(JobState.Pending, queue: TestWorker.UniqueQueue(), maxAttempts: 2);
        await ClaimAsync(job.Id, "worker-a");
        await TestJobs.ExecuteAsync("""
            INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after, published_at)
            VALUES ($1, 'Failed', 1, true, 'old boom', now(), now(), now())
            """, job.Id);

        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/dashboard/jobs/{job.Id}");

        Assert.That(await page.Locator("#attempts tbody tr td:last-child").AllInnerTextsAsync(), Is.EqualTo(new[] { "failed, retried: old boom" }));
        Assert.That(await EventsAsync(page), Is.EqualTo(new[] { "Started@1", "Retrying@1" }));
    }

    private static async Task<Job> ClaimAsync(Guid id, string owner) =>
        await TestJobs.Store.ClaimAsync(id, owner, Guid.NewGuid(), Lease, CancellationToken.None)
        ?? throw new AssertionException($"job {id} could not be claimed by {owner}");

    /// <summary>The events table as "Event@attempt", in the page's order.</summary>
    private static async Task<List<string>> EventsAsync(Microsoft.Playwright.IPage page)
    {
        var kinds = await page.Locator("#events tbody tr td:nth-child(1)").AllInnerTextsAsync();
        var attempts = await page.Locator("#events tbody tr td:nth-child(2)").AllInnerTextsAsync();
        return [.. kinds.Zip(attempts, (kind, attempt) => $"{kind}@{attempt}")];
    }
}
