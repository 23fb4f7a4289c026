using System.Net;
using System.Text.Json;
using JobWorker.Messaging;
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
        var circuit = worker.Services.GetRequiredService<DatabaseCircuit>();
        var consumption = worker.Services.GetRequiredService<ConsumptionControl>();
        var ready = await Eventually.WaitForAsync(() => http.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20), "the worker to be ready (its first maintenance ticks)");

        var live = await http.GetAsync("/health/live");
        var liveReport = JsonDocument.Parse(await live.Content.ReadAsStringAsync()).RootElement;
        var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        circuit.Open("test outage");
        await Eventually.WaitForAsync(() => Task.FromResult(consumption.IsConsuming), consuming => !consuming, TimeSpan.FromSeconds(30), "the endpoints to stop");
        var paused = await http.GetAsync("/health/ready");
        var pausedReport = await paused.Content.ReadAsStringAsync();
        circuit.Close();
        await Eventually.WaitForAsync(() => Task.FromResult(consumption.IsConsuming), consuming => consuming, TimeSpan.FromSeconds(30), "the endpoints to start again");
        var resumed = await http.GetAsync("/health/ready");

        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var slots = liveReport.GetProperty("checks").GetProperty("slots").GetProperty("data");
        Assert.That(slots.GetProperty("busy").GetInt32(), Is.Zero);
        Assert.That(slots.GetProperty("capacity").GetInt32(), Is.EqualTo(32));
        var checks = report.GetProperty("checks").EnumerateObject().Select(c => c.Name).ToList();
        Assert.That(checks, Is.SupersetOf(new[] { "database", "consumption", "maintenance", "masstransit-bus" }));
        Assert.That(paused.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(pausedReport, Does.Contain("PAUSED (database unavailable: test outage)"));
        Assert.That(resumed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
