using System.Net;
using JobWorker.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Dashboard;

/// <summary>The overview's Pause and Resume buttons: signed in, with the antiforgery field, as the CLI's commands do.</summary>
public sealed class QueuePauseDashboardTests
{
    private const string Token = "pause-test-token-0123456789";

    [Test]
    public async Task Overview_pauses_and_resumes_the_queue_for_a_signed_in_operator_and_says_it_is_paused()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(new()
        {
            ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString(), ["Dashboard:ActionsEnabled"] = "true", ["Dashboard:Token"] = Token,
        });
        var queues = worker.Services.GetRequiredService<QueueControl>();
        using var http = new DashboardHttp(port);

        var anonymous = await http.PostFormAsync("/dashboard/queue/pause", new() { ["returnTo"] = "/dashboard/" });
        var pausedAnonymously = await queues.FindPauseAsync(worker.Queue, CancellationToken.None);
        await http.SignInAsync(Token);
        var runningPage = await http.Client.GetStringAsync("/dashboard/");
        var pause = await http.PostFormAsync("/dashboard/queue/pause", new() { ["returnTo"] = "/dashboard/" });
        var paused = await queues.FindPauseAsync(worker.Queue, CancellationToken.None);
        var pausedPage = await http.Client.GetStringAsync("/dashboard/");
        var resume = await http.PostFormAsync("/dashboard/queue/resume", new() { ["returnTo"] = "/dashboard/" });
        var resumed = await queues.FindPauseAsync(worker.Queue, CancellationToken.None);

        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(pausedAnonymously, Is.Null, "an operator who has not signed in cannot pause");
        Assert.That(runningPage, Does.Contain("Pause the queue").And.Not.Contain("queue-paused"));
        Assert.That(pause.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther).Or.EqualTo(HttpStatusCode.Redirect));
        Assert.That(paused?.PausedBy, Is.EqualTo("the dashboard"));
        Assert.That(pausedPage, Does.Contain($"Queue {worker.Queue} is paused by operator since").And.Contain("Resume the queue"));
        Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther).Or.EqualTo(HttpStatusCode.Redirect));
        Assert.That(resumed, Is.Null);
    }
}
