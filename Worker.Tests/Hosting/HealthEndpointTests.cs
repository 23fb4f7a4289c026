using System.Net;
using System.Text.Json;
using JobWorker.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Hosting;

/// <summary>The probes an orchestrator calls: live while the process answers, ready only when it can take jobs.</summary>
public sealed class HealthEndpointTests
{
    [Test]
    public async Task Ready_reports_each_check_and_turns_unready_while_consumption_is_paused()
    {
        await using var worker = await TestWorker.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10), BaseAddress = new Uri(((WebApplication)worker.Host).Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal)) };
        var pause = worker.Services.GetRequiredService<ConsumptionPause>();

        var live = await http.GetAsync("/health/live");
        var ready = await http.GetAsync("/health/ready");
        var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        pause.Pause("test");
        var paused = await http.GetAsync("/health/ready");
        var pausedReport = await paused.Content.ReadAsStringAsync();
        await pause.Settled.WaitAsync(TimeSpan.FromSeconds(30));
        pause.Resume();
        await pause.Settled.WaitAsync(TimeSpan.FromSeconds(30));
        var resumed = await http.GetAsync("/health/ready");

        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var checks = report.GetProperty("checks").EnumerateObject().Select(c => c.Name).ToList();
        Assert.That(checks, Is.SupersetOf(new[] { "database", "consumption", "masstransit-bus" }));
        Assert.That(paused.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(pausedReport, Does.Contain("Consumption is paused"));
        Assert.That(resumed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
