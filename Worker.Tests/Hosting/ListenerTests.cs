using System.Net;
using System.Net.Sockets;
using JobWorker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Hosting;

/// <summary>
/// The process's listeners against its start: health answers while the broker is away, a port in use stops the start
/// before a job is consumed, and an application that embeds the worker keeps its own URLs.
/// </summary>
public sealed class ListenerTests
{
    private const string StackFrame = @" at [\w.`<>]+\(";

    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(40);

    /// <summary>Those that logged a full stack at start, or at every readiness probe, while the broker was away.</summary>
    private static readonly string[] BrokerAwayLoggers = ["DefaultHealthCheckService", "JobQueuePriority[", "QueueTypeCheck[", "LegacyBindingRemoval["];

    [Test, Description("Issue 21, item 2: a worker whose broker was away opened no listener for 60 s, then died with a stack trace.")]
    public async Task Run_serves_live_and_says_what_it_waits_for_while_the_broker_is_unreachable()
    {
        var closed = FreePort();
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
        settings["RabbitMq:Port"] = closed.ToString();
        settings["RabbitMq:StartTimeout"] = "00:00:07";
        await using var worker = WorkerProcess.Start(TestWorker.Executable, settings, "run");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{worker.HealthPort}"), Timeout = TimeSpan.FromSeconds(5) };

        var live = await Eventually.WaitForAsync(() => StatusOfAsync(http, "/health/live"), status => status != 0 || worker.HasExited,
            TimeSpan.FromSeconds(20), "/health/live to answer while the broker is away");
        using var ready = await http.GetAsync("/health/ready");
        var readiness = await ready.Content.ReadAsStringAsync();
        var exitCode = await worker.WaitForExitAsync(ExitTimeout);

        Assert.That(live, Is.EqualTo(200), worker.Output);
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(readiness, Does.Contain($"RabbitMQ at 127.0.0.1:{closed} (RabbitMq:Host/Port/Hosts)"), "readiness names the broker it waits for");
        Assert.That(worker.Output, Does.Contain($"Waiting for RabbitMQ at 127.0.0.1:{closed} (RabbitMq:Host/Port/Hosts): connection refused; retrying"));
        Assert.That(exitCode, Is.EqualTo(3), worker.Output);
        Assert.That(worker.Output, Does.Contain($"RabbitMQ at 127.0.0.1:{closed} is unreachable (RabbitMq:Host/Port/Hosts)"));
        Assert.That(worker.Output, Does.Not.Contain("crit:"));
        var brokerAwayLines = worker.Output.Split('\n').Where(l => BrokerAwayLoggers.Any(l.Contains)).ToList();
        Assert.That(brokerAwayLines, Is.Not.Empty.And.None.Match(StackFrame), "the broker being away is said in one line each, without a stack");
    }

    [Test, Description("Issue 21, item 5: a replica whose health port was taken claimed jobs before Kestrel failed, then released them.")]
    public async Task Run_with_its_health_port_taken_exits_2_naming_the_setting_before_consuming_a_job()
    {
        var queue = TestWorker.UniqueQueue();
        var job = TestJobs.Submit("noop");
        await using (var client = await TestClient.StartAsync(queue))
        {
            await client.SendAsync(queue, [job]);
        }

        using var taken = TcpListener.Create(0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var settings = TestWorker.TestSettings(queue);
        settings["Health:Port"] = port.ToString();
        try
        {
            await using var worker = WorkerProcess.Start(TestWorker.Executable, settings, "run");
            var exitCode = await worker.WaitForExitAsync(ExitTimeout);
            using var rabbit = new RabbitManagement();
            var waiting = await rabbit.PeekAsync(queue);

            Assert.That(exitCode, Is.EqualTo(2), worker.Output);
            Assert.That(worker.Output, Does.Contain($"Health:Port {port} is in use (http://[::]:{port}): another process listens there; set Health:Port to a free port"));
            Assert.That(worker.Output, Does.Not.Contain("crit:"));
            Assert.That(await TestJobs.FindAsync(job.JobId), Is.Null, "the job was never accepted, let alone claimed");
            Assert.That(waiting, Has.Count.EqualTo(1), "the submission waits in the queue for a replica that can serve");
        }
        finally
        {
            using var rabbit = new RabbitManagement();
            await rabbit.DeleteWorkerQueuesAsync(queue);
        }
    }

    [Test, Description("Issue 21, item 5: a second dashboard failed with 'address already in use', exit 1, and a misleading crit line.")]
    public async Task Dashboard_with_its_port_taken_exits_2_naming_the_setting()
    {
        using var taken = TcpListener.Create(0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
        settings["Dashboard:Port"] = port.ToString();

        await using var dashboard = WorkerProcess.Start(TestWorker.Executable, settings, "dashboard");
        var exitCode = await dashboard.WaitForExitAsync(ExitTimeout);

        Assert.That(exitCode, Is.EqualTo(2), dashboard.Output);
        Assert.That(dashboard.Output, Does.Contain($"Dashboard:Port {port} is in use (http://127.0.0.1:{port}): another process listens there; set Dashboard:Port to a free port"));
        Assert.That(dashboard.Output, Does.Not.Contain("crit:"));
    }

    [TestCase("urls"), TestCase("Kestrel:Endpoints")]
    [Description("Issue 21, item 4: AddJobWorker() overrode the application's URLs, which then answered only on Health:Port.")]
    public async Task An_embedded_web_app_keeps_its_own_url_while_the_worker_runs(string configuredBy)
    {
        var appPort = FreePort();
        var healthPort = FreePort();
        var queue = TestWorker.UniqueQueue();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        var url = $"http://127.0.0.1:{appPort}";
        var settings = TestWorker.Overlay(TestWorker.TestSettings(queue), new Dictionary<string, string?> { ["Health:Port"] = healthPort.ToString() });
        if (configuredBy == "urls")
        {
            builder.WebHost.UseUrls(url);
        }
        else
        {
            settings["Kestrel:Endpoints:App:Url"] = url;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddJobWorker().AddBuiltInHandlers();
        await using var app = builder.Build();
        app.MapGet("/", () => Results.Text("the app"));
        app.MapJobWorkerHealth();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await app.StartAsync(timeout.Token);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var own = await http.GetStringAsync($"http://127.0.0.1:{appPort}/");
            var health = await StatusOfAsync(http, $"http://127.0.0.1:{healthPort}/health/live");
            var healthOnAppUrl = await StatusOfAsync(http, $"http://127.0.0.1:{appPort}/health/live");

            Assert.That(own, Is.EqualTo("the app"));
            Assert.That(health, Is.EqualTo(200), "Health:Port serves the probes");
            Assert.That(healthOnAppUrl, Is.EqualTo(200), "mapped by the app, the probes answer on its URL too");
        }
        finally
        {
            await app.StopAsync(timeout.Token);
            using var rabbit = new RabbitManagement();
            await rabbit.DeleteWorkerQueuesAsync(queue);
        }
    }

    [Test, Description("Review of issue 21: endpoints set in code made Kestrel drop Health:Port silently while the worker consumed jobs.")]
    public async Task An_embedded_web_app_with_endpoints_in_code_fails_to_start_naming_Health_Port_before_consuming()
    {
        var appPort = FreePort();
        var healthPort = FreePort();
        var queue = TestWorker.UniqueQueue();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(TestWorker.Overlay(TestWorker.TestSettings(queue),
            new Dictionary<string, string?> { ["Health:Port"] = healthPort.ToString() }));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, appPort));
        builder.AddJobWorker().AddBuiltInHandlers();
        await using var app = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var refused = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync(timeout.Token));
        var state = app.Services.GetRequiredService<JobWorker.Messaging.BusStartState>();
        await app.StopAsync(timeout.Token);

        Assert.That(refused!.Message, Does.Contain($"Health:Port {healthPort} is not bound: the application's Kestrel endpoints set in code replace added addresses; "
            + $"listen on {healthPort} in ConfigureKestrel too"));
        Assert.That(state.Started, Is.False, "the bus never started, so no job was consumed");
    }

    [TestCase("http://localhost:{0}"), TestCase("https://*:{0}")]
    [Description("Review of issue 21: an application URL on Health:Port that is not http on all interfaces served the probes on loopback or https only.")]
    public void An_app_url_on_Health_Port_that_misses_the_probes_is_refused(string format)
    {
        var port = FreePort();
        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, port);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(TestWorker.Overlay(TestWorker.TestSettings(TestWorker.UniqueQueue()),
            new Dictionary<string, string?> { ["Health:Port"] = port.ToString(), ["urls"] = url }));
        builder.AddJobWorker().AddBuiltInHandlers();
        using var app = builder.Build();
        var listeners = app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<JobWorkerListeners>().Single();

        var refused = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => listeners.StartingAsync(CancellationToken.None));

        Assert.That(refused!.Message, Does.Contain($"Health:Port {port} is also the application's URL {url}, which does not serve the probes over http on all interfaces"));
    }

    [Test, Description("Review of issue 21: Dashboard:Port equal to Health:Port served the dashboard on all interfaces through the health listener.")]
    public void Dashboard_Port_equal_to_Health_Port_is_refused_naming_both()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(TestWorker.Overlay(TestWorker.TestSettings(TestWorker.UniqueQueue()),
            new Dictionary<string, string?> { ["Health:Port"] = "18090", ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = "18090" }));
        builder.AddJobWorker().AddBuiltInHandlers();
        using var app = builder.Build();

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => _ = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HealthOptions>>().Value);

        Assert.That(refused!.Message, Does.Contain("Dashboard:Port and Health:Port are both 18090"));
    }

    [TestCase(false, true), TestCase(true, false)]
    [Description("Review of issue 21: an embedded app with no URL of its own lost ASP.NET Core's default http://localhost:5000; JobWorker's own processes listen on its ports only.")]
    public async Task A_web_app_without_urls_keeps_the_default_url_unless_JobWorker_runs_the_process(bool ownProcess, bool expectDefault)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(TestWorker.Overlay(TestWorker.TestSettings(TestWorker.UniqueQueue()),
            new Dictionary<string, string?> { ["Health:Port"] = "18095", ["urls"] = null, ["http_ports"] = null, ["https_ports"] = null }));
        builder.AddJobWorker().AddBuiltInHandlers();
        if (ownProcess)
        {
            JobWorkerListeners.OwnProcess(builder.Services);
        }

        await using var app = builder.Build();
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;

        await app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<JobWorkerListeners>().Single().StartingAsync(CancellationToken.None);

        Assert.That(addresses, Does.Contain("http://*:18095"));
        Assert.That(addresses.Contains(JobWorkerListeners.DefaultUrl), Is.EqualTo(expectDefault), string.Join(", ", addresses));
    }

    /// <summary>The status code, or 0 when nothing answers.</summary>
    private static async Task<int> StatusOfAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path);
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
