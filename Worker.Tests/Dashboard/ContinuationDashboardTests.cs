using System.Net;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Tests.Dashboard;

/// <summary>What the dashboard shows of due times and continuations: the jobs list by due time, an Awaiting job's parents, a parent's continuations.</summary>
[NonParallelizable]
public sealed class ContinuationDashboardTests
{
    private TestWorker _worker = null!;
    private DashboardHttp _http = null!;

    [OneTimeSetUp]
    public async Task StartWorker()
    {
        var port = DashboardBrowser.FreePort();
        _worker = await TestWorker.StartAsync(new() { ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString() });
        _http = new DashboardHttp(port);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _worker.DisposeAsync();
    }

    [Test, Description("Scheduled jobs inserted out of due order: sorted by due time they read soonest first, each with when it is due; other states are left out.")]
    public async Task Jobs_list_sorts_Pending_jobs_by_due_time_and_shows_when_each_is_due()
    {
        var type = $"due-{Guid.NewGuid():N}"[..16];
        var queue = TestWorker.UniqueQueue();
        var inTwoHours = await JobFactory.InsertAsync(JobState.Pending, queue: queue, type: type, dueIn: TimeSpan.FromHours(2));
        var inOneHour = await JobFactory.InsertAsync(JobState.Pending, queue: queue, type: type, dueIn: TimeSpan.FromHours(1));
        var inThreeHours = await JobFactory.InsertAsync(JobState.Pending, queue: queue, type: type, dueIn: TimeSpan.FromHours(3));
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue, type: type);

        var byDue = await _http.Client.GetStringAsync($"/dashboard/jobs?type={type}&sort=due");
        var newest = await _http.Client.GetStringAsync($"/dashboard/jobs?type={type}");

        Assert.That(Order(byDue, inOneHour.Id, inTwoHours.Id, inThreeHours.Id), Is.Ordered, "due soonest first");
        Assert.That(byDue, Does.Not.Contain(running.Id.ToString()), "only Pending jobs have a due time");
        Assert.That(byDue, Does.Contain($"datetime=\"{inOneHour.RunAt:O}").Or.Contain(inOneHour.RunAt.ToString("yyyy-MM-dd HH:mm:ss")));
        Assert.That(byDue, Does.Contain("(in 59 min").Or.Contain("(in 1 h").Or.Contain("(in 1h"));
        Assert.That(byDue, Does.Contain("<option value=\"due\" selected"));
        Assert.That(Order(newest, running.Id, inThreeHours.Id, inOneHour.Id, inTwoHours.Id), Is.Ordered, "newest first by default");
    }

    [Test]
    public async Task Jobs_list_names_an_unknown_sort()
    {
        using var response = await _http.Client.GetAsync("/dashboard/jobs?sort=sideways");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Sort &#x27;sideways&#x27; is not").Or.Contain("Sort 'sideways' is not"));
    }

    [Test, Description("An Awaiting child of a running parent, a succeeded one and one not yet submitted: its page lists each, linked, with its state; the parent's page lists the child.")]
    public async Task Awaiting_job_page_shows_the_parents_it_waits_for_and_a_parent_shows_its_continuation()
    {
        var queue = TestWorker.UniqueQueue();
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var succeeded = await JobFactory.InsertAsync(JobState.Succeeded, queue: queue);
        var missing = Guid.NewGuid();
        var child = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Queue: queue, After: [running.Id, succeeded.Id, missing]);
        await TestJobs.Store.AcceptAwaitingAsync(child, CancellationToken.None);

        var childPage = await _http.Client.GetStringAsync($"/dashboard/jobs/{child.Id}");
        var parentPage = await _http.Client.GetStringAsync($"/dashboard/jobs/{running.Id}");
        var awaitingList = await _http.Client.GetStringAsync("/dashboard/jobs?state=Awaiting");
        var overview = await _http.Client.GetStringAsync("/dashboard/");

        Assert.That(childPage, Does.Contain("Waits for 2 of 3 parent jobs"));
        Assert.That(childPage, Does.Contain("once every parent job has Succeeded"));
        Assert.That(childPage, Does.Contain($"href=\"/dashboard/jobs/{running.Id}\"").And.Contain($"href=\"/dashboard/jobs/{succeeded.Id}\"").And.Contain($"href=\"/dashboard/jobs/{missing}\""));
        Assert.That(childPage, Does.Contain("not yet submitted").And.Contain("state-running\">Running").And.Contain("state-succeeded\">Succeeded"));
        Assert.That(parentPage, Does.Contain("Continuations").And.Contain($"href=\"/dashboard/jobs/{child.Id}\""));
        Assert.That(awaitingList, Does.Contain(child.Id.ToString()));
        Assert.That(overview, Does.Contain("id=\"count-Awaiting\""));
    }

    /// <summary>Where each id first appears in the page, in the order given.</summary>
    private static List<int> Order(string page, params Guid[] ids) => [.. ids.Select(id =>
    {
        var at = page.IndexOf(id.ToString(), StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), $"{id} is on the page");
        return at;
    })];
}
