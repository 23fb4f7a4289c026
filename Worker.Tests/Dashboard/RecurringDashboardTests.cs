using System.Net;

namespace JobWorker.Tests.Dashboard;

/// <summary>The Recurring page: the schedules table for anyone who may read, Pause/Resume/Trigger for a signed-in operator.</summary>
public sealed class RecurringDashboardTests
{
    private const string Token = "recurring-test-token-0123456789";

    [Test]
    public async Task Recurring_page_lists_schedules_and_a_signed_in_operator_pauses_triggers_and_resumes_one()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(new()
        {
            ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString(), ["Dashboard:ActionsEnabled"] = "true", ["Dashboard:Token"] = Token,
        });
        var key = $"dash-{worker.Queue}";
        var control = RecurringLedger.Control;
        await control.AddAsync(worker.Queue, key, "0 0 4 * * *", "noop", """{"from": "dashboard"}""", "UTC", CancellationToken.None);
        using var http = new DashboardHttp(port);
        var form = new Dictionary<string, string> { ["returnTo"] = "/dashboard/recurring" };

        var overview = await http.Client.GetStringAsync("/dashboard/");
        var anonymousPage = await http.Client.GetStringAsync("/dashboard/recurring");
        var anonymousPause = await http.PostFormAsync($"/dashboard/recurring/{key}/pause", form);
        await http.SignInAsync(Token);
        var signedInPage = await http.Client.GetStringAsync("/dashboard/recurring");
        var pause = await http.PostFormAsync($"/dashboard/recurring/{key}/pause", form);
        var paused = await control.FindAsync(key, CancellationToken.None);
        var pausedPage = await http.Client.GetStringAsync("/dashboard/recurring");
        var trigger = await http.PostFormAsync($"/dashboard/recurring/{key}/trigger", form);
        var triggered = await control.FindAsync(key, CancellationToken.None);
        var resume = await http.PostFormAsync($"/dashboard/recurring/{key}/resume", form);
        var resumed = await control.FindAsync(key, CancellationToken.None);
        await control.RemoveAsync(key, CancellationToken.None);

        Assert.That(overview, Does.Contain("href=\"/dashboard/recurring\""), "the navigation links the page");
        Assert.That(anonymousPage, Does.Contain($"id=\"recurring-{key}\"").And.Contain("0 0 4 * * *").And.Not.Contain($"/recurring/{key}/pause"));
        Assert.That(anonymousPause.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(signedInPage, Does.Contain($"/recurring/{key}/pause").And.Contain($"/recurring/{key}/trigger"));
        Assert.That(pause.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther).Or.EqualTo(HttpStatusCode.Redirect));
        Assert.That(paused?.PausedBy, Is.EqualTo("the dashboard"));
        Assert.That(pausedPage, Does.Contain($"/recurring/{key}/resume"));
        Assert.That(trigger.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther).Or.EqualTo(HttpStatusCode.Redirect));
        Assert.That(triggered?.LastJobId, Is.Not.Null, "the trigger created a job");
        Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther).Or.EqualTo(HttpStatusCode.Redirect));
        Assert.That(resumed?.Status, Is.EqualTo("active"));
    }
}
