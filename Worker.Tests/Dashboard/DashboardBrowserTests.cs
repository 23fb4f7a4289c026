using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace JobWorker.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser, served by a worker on real PostgreSQL and RabbitMQ with actions on: the overview
/// refreshes itself while jobs run, the jobs list filters, a failed job's page shows its attempts and retries it, a
/// running job is cancelled from its page, and actions are refused without the token.
/// </summary>
[NonParallelizable]
public sealed class DashboardBrowserTests
{
    private const string Token = "browser-test-token-0123456789";

    /// <summary>A job type only the bulk-retry test submits (the recording handler again), so its filter matches its jobs alone.</summary>
    private const string BulkType = "record-bulk";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private TestWorker _worker = null!;
    private TestClient _client = null!;
    private DashboardBrowser _browser = null!;
    private string _baseUrl = "";

    private string WorkerId => _worker.Services.GetRequiredService<WorkerIdentity>().Id;

    [OneTimeSetUp]
    public async Task StartWorkerAndBrowser()
    {
        var port = DashboardBrowser.FreePort();
        _worker = await TestWorker.StartAsync(new()
        {
            ["Dashboard:Enabled"] = "true",
            ["Dashboard:Port"] = port.ToString(),
            ["Dashboard:ActionsEnabled"] = "true",
            ["Dashboard:Token"] = Token,
            ["Dashboard:RefreshInterval"] = "00:00:00.500",
        }, worker => worker.AddJobHandler<RecordingJobHandler>(BulkType));
        _client = await TestClient.StartAsync(_worker.Queue);
        _browser = await DashboardBrowser.LaunchAsync();
        _baseUrl = $"http://127.0.0.1:{port}";
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _browser.DisposeAsync();
        await _client.DisposeAsync();
        await _worker.DisposeAsync();
    }

    [Test]
    public async Task The_overview_shows_the_counts_change_while_jobs_run_without_reloading()
    {
        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/dashboard/");
        var succeededBefore = Count(await page.Locator("#count-Succeeded").InnerTextAsync());
        await page.EvaluateAsync("window.__sameDocument = true");

        var jobs = TestJobs.Delays(20, 300);
        await _client.SendAsync(_worker.Queue, jobs);
        await Eventually.WaitForAsync(
            async () => Count(await page.Locator("#count-Succeeded").InnerTextAsync()), n => n >= succeededBefore + 20, Timeout,
            "the overview's Succeeded count to rise by the 20 jobs");

        Assert.That(await page.EvaluateAsync<bool>("window.__sameDocument === true"), Is.True, "the counts refreshed in place, not by reloading the page");
        await Expect(page.Locator("#replicas")).ToContainTextAsync(WorkerId);
        await Expect(page.Locator("#replicas")).ToContainTextAsync("alive");
        await Expect(page.Locator("#queues")).ToContainTextAsync(_worker.Queue);
        await Expect(page.Locator("figure svg[role=img]")).ToBeVisibleAsync();
        Assert.That(await page.Locator("figcaption").InnerTextAsync(), Does.Match(@"In the last hour [\d,]+ jobs succeeded"));
        await DashboardBrowser.ScreenshotAsync(page, "overview");
    }

    [Test]
    public async Task The_jobs_list_filters_by_state_and_type_and_every_control_is_labelled()
    {
        var type = $"filter-{Guid.NewGuid():N}"[..16];
        var failing = Enumerable.Range(0, 3).Select(_ => TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 1 }, maxAttempts: 1)).ToList();
        var succeeding = Enumerable.Range(0, 2).Select(_ => TestJobs.Submit(RecordingJobHandler.JobType)).ToList();
        var otherType = TestJobs.Submit(type, maxAttempts: 1);
        await _client.SendAsync(_worker.Queue, [.. failing, .. succeeding, otherType]);
        await TestJobs.WaitUntilFinishedAsync([.. failing, .. succeeding, otherType], Timeout);

        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/dashboard/jobs");
        await page.GetByLabel("State").SelectOptionAsync("Failed");
        await page.GetByLabel("Error contains").FillAsync("planned failure");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        var shown = await page.Locator("#jobs tbody tr .job-id").AllInnerTextsAsync();
        Assert.That(failing.Select(j => j.JobId.ToString()), Is.SubsetOf(shown), "the failed jobs with that error are listed");
        Assert.That(shown, Has.None.EqualTo(otherType.JobId.ToString()).And.None.AnyOf(succeeding.Select(j => j.JobId.ToString()).ToArray()));
        Assert.That(page.Url, Does.Contain("state=Failed").And.Contain("error=planned"), "the filter is in the address, so it can be shared");

        await page.GetByLabel("Error contains").FillAsync("");
        await page.GetByLabel("Type").FillAsync(type);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.Locator("#jobs tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#jobs tbody tr .job-id")).ToHaveTextAsync(otherType.JobId.ToString());
        await Expect(page.Locator("#jobs tbody tr")).ToContainTextAsync($"Unknown job type '{type}'");

        var unlabelled = await page.EvaluateAsync<int>(
            "[...document.querySelectorAll('input:not([type=hidden]), select')].filter(e => e.labels.length === 0).length");
        Assert.That(unlabelled, Is.Zero, "every control has a label");
        await DashboardBrowser.ScreenshotAsync(page, "jobs-filtered");
    }

    [Test]
    public async Task A_failed_jobs_page_shows_its_attempt_and_retrying_it_from_the_keyboard_makes_it_succeed()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 1 }, maxAttempts: 1);
        await _client.SendAsync(_worker.Queue, [job]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Failed, Timeout);

        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await SignInAsync(page);
        await page.GotoAsync($"/dashboard/jobs/{job.JobId}");
        await Expect(page.Locator(".job-head .state")).ToHaveTextAsync("Failed");
        await Expect(page.Locator("#job-error")).ToContainTextAsync("planned failure on attempt 1");
        await Expect(page.Locator("#attempts tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#attempts")).ToContainTextAsync(WorkerId);
        await Expect(page.Locator("#job-payload")).ToContainTextAsync("\"failures\": 1");
        await DashboardBrowser.ScreenshotAsync(page, "job-failed");

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry this job" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.Locator("#notice")).ToContainTextAsync("is Pending again with 1 more attempt(s)");
        await Expect(page.Locator(".job-head .state")).ToHaveTextAsync("Succeeded", new() { Timeout = 30_000 });
        await Expect(page.Locator("#attempts tbody tr")).ToHaveCountAsync(2);
        Assert.That(_worker.Runs.For(job.JobId), Is.EqualTo(2), "the failed attempt and the retried one, each once");
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That((row!.State, row.Attempt, row.MaxAttempts), Is.EqualTo((JobState.Succeeded, 2, 2)));
        await DashboardBrowser.ScreenshotAsync(page, "job-retried");
    }

    [Test]
    public async Task Retrying_every_failed_job_of_a_filter_requeues_exactly_those_and_they_succeed()
    {
        var failing = Enumerable.Range(0, 3).Select(_ => TestJobs.Submit(BulkType, new { failures = 1 }, maxAttempts: 1)).ToList();
        var otherType = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 1 }, maxAttempts: 1);
        await _client.SendAsync(_worker.Queue, [.. failing, otherType]);
        await TestJobs.WaitUntilFinishedAsync([.. failing, otherType], Timeout);

        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/dashboard/jobs?state=Failed&type={BulkType}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in to act" }).ClickAsync();
        await page.GetByLabel("Dashboard token").FillAsync(Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        Assert.That(page.Url, Does.EndWith($"/dashboard/jobs?state=Failed&type={BulkType}"), "signing in returns to the page it was asked from");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry all failed jobs matching this filter" }).ClickAsync();

        await Expect(page.Locator("#notice")).ToContainTextAsync("3 failed job(s) are Pending again");
        var counts = await Eventually.WaitForAsync(() => TestJobs.CountAsync(failing), c => c.GetValueOrDefault(JobState.Succeeded) == 3, Timeout,
            "the three retried jobs to succeed");
        Assert.That(counts.Values.Sum(), Is.EqualTo(3));
        Assert.That(failing.Select(j => _worker.Runs.For(j.JobId)), Is.All.EqualTo(2), "each ran once more, no more");
        Assert.That((await TestJobs.Store.FindAsync(otherType.JobId, CancellationToken.None))!.State, Is.EqualTo(JobState.Failed), "outside the filter: untouched");
        await DashboardBrowser.ScreenshotAsync(page, "jobs-bulk-retried");
    }

    [Test]
    public async Task A_running_job_is_cancelled_from_its_page()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { ms = 600_000 });
        await _client.SendAsync(_worker.Queue, [job]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, Timeout);

        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await SignInAsync(page);
        await page.GotoAsync($"/dashboard/jobs/{job.JobId}");
        await Expect(page.Locator(".job-head .state")).ToHaveTextAsync("Running");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel this job" }).ClickAsync();

        await Expect(page.Locator("#notice")).ToContainTextAsync("Cancel recorded for running job");
        await Expect(page.Locator(".job-head .state")).ToHaveTextAsync("Cancelled", new() { Timeout = 30_000 });
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That((row!.State, row.Error), Is.EqualTo((JobState.Cancelled, "Cancelled from the dashboard.")));
        Assert.That(_worker.Runs.For(job.JobId), Is.EqualTo(1));
        await Eventually.WaitForAsync(() => Task.FromResult(_worker.Services.GetRequiredService<JobSlots>().Busy), busy => busy == 0, Timeout,
            "the cancelled job's slot to be free");
        await DashboardBrowser.ScreenshotAsync(page, "job-cancelled");
    }

    [Test]
    public async Task Actions_are_refused_without_the_token_and_without_the_forms_antiforgery_token()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 1 }, maxAttempts: 1);
        await _client.SendAsync(_worker.Queue, [job]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Failed, Timeout);
        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();

        await page.GotoAsync($"/dashboard/jobs/{job.JobId}");
        var buttons = await page.GetByRole(AriaRole.Button, new() { Name = "Retry this job" }).CountAsync();
        var anonymous = await context.APIRequest.PostAsync($"/dashboard/jobs/{job.JobId}/retry", new() { MaxRedirects = 0 });
        await page.GotoAsync("/dashboard/login");
        await page.GetByLabel("Dashboard token").FillAsync("not-the-token-at-all");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        var wrongToken = await page.Locator("[role=alert]").InnerTextAsync();
        await SignInAsync(page);
        var forged = await context.APIRequest.PostAsync($"/dashboard/jobs/{job.JobId}/retry", new() { MaxRedirects = 0 });

        Assert.That(buttons, Is.Zero, "no action is offered before signing in");
        Assert.That(anonymous.Status, Is.EqualTo(401));
        Assert.That(await anonymous.TextAsync(), Does.Contain("needs the dashboard token"));
        Assert.That(wrongToken, Does.Contain("That is not the dashboard token."));
        Assert.That(forged.Status, Is.EqualTo(400), "signed in, but the POST carries no antiforgery token: a cross-site request");
        Assert.That(await forged.TextAsync(), Does.Contain("did not come from this dashboard"));
        Assert.That((await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None))!.State, Is.EqualTo(JobState.Failed), "nothing was retried");
        Assert.That(_worker.Runs.For(job.JobId), Is.EqualTo(1));
        await DashboardBrowser.ScreenshotAsync(page, "signed-in");
    }

    [Test, Description("A running delay job's page shows a progress bar with its percentage and message, and the bar moves without a reload.")]
    public async Task A_running_jobs_progress_bar_moves_live()
    {
        var job = TestJobs.Submit("delay", new { ms = 4_000 });
        await _client.SendAsync(_worker.Queue, [job]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, Timeout);
        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/dashboard/jobs/{job.JobId}");
        await page.EvaluateAsync("window.__sameDocument = true");

        var bar = page.Locator("#job-progress progress");
        await Expect(bar).ToBeVisibleAsync();
        var first = double.Parse((await bar.GetAttributeAsync("value"))!, System.Globalization.CultureInfo.InvariantCulture);
        var later = await Eventually.WaitForAsync(
            async () => await bar.CountAsync() == 1 ? double.Parse((await bar.GetAttributeAsync("value"))!, System.Globalization.CultureInfo.InvariantCulture) : -1,
            v => v > first, Timeout, "the progress bar to move");

        Assert.That(later, Is.GreaterThan(first).And.LessThanOrEqualTo(100));
        await Expect(page.Locator("#job-progress")).ToContainTextAsync("slept");
        Assert.That(await page.EvaluateAsync<bool>("window.__sameDocument === true"), Is.True, "the bar moved in place, not by reloading the page");
    }

    [Test]
    public async Task The_jobs_list_shows_a_running_jobs_progress()
    {
        var job = await JobFactory.InsertAsync(JobState.Running, queue: TestWorker.UniqueQueue(), type: "progress-list");
        await TestJobs.ExecuteAsync(
            "UPDATE jobs SET progress_completed = 6, progress_total = 15, progress_message = 'page 6 of 15', progress_updated_at = now() WHERE id = $1", job.Id);
        await using var context = await _browser.NewContextAsync(_baseUrl);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/dashboard/jobs?state=Running&type=progress-list");

        var row = page.Locator("#jobs tbody tr").Filter(new() { HasText = job.Id.ToString() });
        await Expect(row.Locator("progress")).ToHaveAttributeAsync("value", "40");
        await Expect(row).ToContainTextAsync("40% page 6 of 15");
    }

    private static async Task SignInAsync(IPage page)
    {
        await page.GotoAsync("/dashboard/login");
        await page.GetByLabel("Dashboard token").FillAsync(Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("Signed in");
    }

    private static long Count(string text) => long.Parse(text.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
}
