using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using JobWorker.Hosting;
using JobWorker.Persistence;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Dashboard;

/// <summary>
/// Who reaches the dashboard and what it lets them do, over plain HTTP: off unless enabled, only on its own port,
/// loopback peers only by default, read-only unless actions are on, no redirect off the dashboard, and settings that
/// cannot work are refused at start with the key named. Also the standalone <c>jobworker dashboard</c>.
/// </summary>
[NonParallelizable]
public sealed partial class DashboardAccessTests
{
    private const string Token = "access-test-token-0123456789";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Test]
    public async Task The_dashboard_is_off_unless_enabled()
    {
        await using var worker = await TestWorker.StartAsync();
        using var http = Client(HealthPort(worker));

        var response = await http.GetAsync("/dashboard/");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task A_read_only_dashboard_shows_pages_offers_no_actions_and_refuses_them_with_a_reason()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(new() { ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString() });
        var job = new JobWorker.Jobs.NewJob(Guid.NewGuid(), "noop", "{}", 1, null, null);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
        await TestJobs.ApplyAsync(JobWorker.Jobs.JobLifecycle.Reject(job.Id, job.Type, "failed for the test"));
        using var http = Client(port);

        var overview = await http.GetAsync("/dashboard/");
        var page = await http.GetStringAsync($"/dashboard/jobs/{job.Id}");
        var retry = await http.PostAsync($"/dashboard/jobs/{job.Id}/retry", new FormUrlEncodedContent([]));
        var onHealthPort = await Client(HealthPort(worker, except: port)).GetAsync("/dashboard/");

        Assert.That(overview.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(overview.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("default-src 'self'").And.Contain("frame-ancestors 'none'"));
        Assert.That(page, Does.Contain("Read-only").And.Contain("failed for the test").And.Not.Contain("Retry this job"));
        Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await retry.Content.ReadAsStringAsync(), Does.Contain("Actions are turned off on this dashboard (Dashboard:ActionsEnabled)"));
        Assert.That((await TestJobs.Store.FindAsync(job.Id, CancellationToken.None))!.State, Is.EqualTo(JobState.Failed));
        Assert.That(onHealthPort.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "the dashboard is served on its own listener only");
    }

    [Test]
    public async Task A_peer_that_is_not_loopback_is_refused_unless_remote_access_is_allowed()
    {
        var address = NonLoopbackAddress();
        Assume.That(address, Is.Not.Null, "this machine has no non-loopback IPv4 address to come from");
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(new()
        {
            ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString(), ["Dashboard:Address"] = "0.0.0.0",
            ["Dashboard:AllowedHosts"] = $"127.0.0.1;{address}",
        });

        using var remote = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var refused = await remote.GetAsync("/dashboard/");
        var local = await Client(port).GetAsync("/dashboard/");

        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain($"{address} is not loopback").And.Contain("Dashboard:AllowRemote"));
        Assert.That(local.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task After_an_action_the_dashboard_sends_the_operator_back_to_its_own_pages_only()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(new()
        {
            ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString(), ["Dashboard:ActionsEnabled"] = "true", ["Dashboard:Token"] = Token,
        });
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10),
        };

        var signIn = await PostFormAsync(http, "/dashboard/login", new() { ["token"] = Token, ["returnTo"] = "https://elsewhere.example/steal" });
        var cancel = await PostFormAsync(http, $"/dashboard/jobs/{Guid.NewGuid()}/cancel", new() { ["returnTo"] = "//elsewhere.example/" });

        Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(signIn.Headers.Location!.ToString(), Is.EqualTo("/dashboard/"));
        Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), "signed in and the form's own token: the action ran");
        Assert.That(cancel.Headers.Location!.ToString(), Is.EqualTo("/dashboard/"));
        var session = cookies.GetCookies(new Uri($"http://127.0.0.1:{port}/dashboard/"))["jobworker-dashboard"];
        Assert.That(session, Is.Not.Null);
        Assert.That(session!.HttpOnly, Is.True);
        Assert.That(session.Value, Does.Not.Contain(Token), "the cookie holds a keyed hash, not the token");
    }

    [Test]
    [Category("Slow")]
    public async Task While_the_database_is_down_a_page_says_so_and_answers_again_once_it_is_back()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(new() { ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString() });
        using var http = Client(port);
        Assert.That((await http.GetAsync("/dashboard/")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        HttpResponseMessage down;
        await LocalServices.StopAsync("postgres");
        try
        {
            down = await http.GetAsync("/dashboard/jobs");
        }
        finally
        {
            await LocalServices.StartAsync("postgres");
        }

        Assert.That(down.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await down.Content.ReadAsStringAsync(), Does.Contain("The job database did not answer"));
        await Eventually.WaitForAsync(async () => (await http.GetAsync("/dashboard/")).StatusCode, status => status == HttpStatusCode.OK, Timeout,
            "the overview to answer again once PostgreSQL is back");

        // The restart closed the idle connections of the tests' own pools too.
        NpgsqlConnection.ClearAllPools();
    }

    [TestCase("Dashboard:ActionsEnabled", "true", "Dashboard:ActionsEnabled needs Dashboard:Token")]
    [TestCase("Dashboard:Address", "localhost:80", "Dashboard:Address 'localhost:80' is not an IP address")]
    [TestCase("Dashboard:Port", "70000", "Dashboard:Port must be between 0 and 65535.")]
    [TestCase("Dashboard:Path", "dashboard/", "Dashboard:Path must start with '/'")]
    [TestCase("Dashboard:RefreshInterval", "00:00:00.010", "Dashboard:RefreshInterval must be between 500 ms and 10 min.")]
    [TestCase("Dashboard:AllowedHosts", "http://ops.example/", "Dashboard:AllowedHosts 'http://ops.example/' is not a host name")]
    [TestCase("Dashboard:AllowedHosts", " ; ", "Dashboard:AllowedHosts names no host")]
    [TestCase("Dashboard:SessionLifetime", "00:00:00", "Dashboard:SessionLifetime must be between 1 s and 7 days.")]
    [TestCase("Dashboard:SessionIdleTimeout", "2.00:00:00", "Dashboard:SessionIdleTimeout must be between 1 s and 1 day.")]
    public void Settings_that_cannot_work_stop_the_start_with_the_key_named(string key, string value, string message)
    {
        var failure = Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var worker = await TestWorker.StartAsync(new() { ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = DashboardBrowser.FreePort().ToString(), [key] = value });
        });

        Assert.That(failure!.Message, Does.Contain(message));
    }

    [Test]
    public async Task Jobworker_dashboard_serves_the_pages_alone_and_consumes_no_jobs()
    {
        var queue = TestWorker.UniqueQueue();
        var port = DashboardBrowser.FreePort();
        var settings = TestWorker.Overlay(TestWorker.TestSettings(queue), new Dictionary<string, string?>
        {
            ["Dashboard:Port"] = port.ToString(), ["Logging:LogLevel:Default"] = "Information",
        });
        await using var client = await TestClient.StartAsync(queue);
        await using var dashboard = WorkerProcess.Start(TestWorker.Executable, settings, "dashboard");
        using var http = Client(port);
        await dashboard.WaitUntilReadyAsync(Timeout);

        var job = TestJobs.Submit("noop");
        await client.SendAsync(queue, [job]);
        var overview = await Eventually.WaitForAsync(() => http.GetStringAsync("/dashboard/"), html => QueueRow(html, queue) is not null, Timeout,
            "the overview to show the job queue");

        Assert.That(QueueRow(overview, queue), Is.EqualTo(("1", "0")), "the message waits in the queue with no consumer: the dashboard consumes nothing");
        Assert.That(await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None), Is.Null, "no job was accepted");
        Assert.That(dashboard.Output, Does.Contain($"Dashboard at http://127.0.0.1:{port}/dashboard/"));
        Assert.That(dashboard.HasExited, Is.False);
        Assert.That(await dashboard.IsReadyAsync(), Is.True, "its /health/ready: the database answers and the bus is connected");
    }

    private static (string Messages, string Consumers)? QueueRow(string html, string queue)
    {
        var match = Regex.Match(html, $"<td>{Regex.Escape(queue)}</td>\\s*<td class=\"num\">([\\d,]+)</td>\\s*<td class=\"num\">([\\d,]+)</td>");
        return match.Success ? (match.Groups[1].Value, match.Groups[2].Value) : null;
    }

    /// <summary>Posts a form as a page would: with the antiforgery field from the sign-in page and its cookie.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient http, string path, Dictionary<string, string> fields)
    {
        var page = await http.GetStringAsync("/dashboard/login");
        var token = AntiforgeryField().Match(page).Groups[1].Value;
        fields["__antiforgery"] = WebUtility.HtmlDecode(token);
        return await http.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    [GeneratedRegex("name=\"__antiforgery\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The port Kestrel bound for Health:Port 0: the one of its listeners that is not the dashboard's.</summary>
    private static int HealthPort(TestWorker worker, int except = 0)
    {
        var addresses = worker.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return addresses.Select(a => new Uri(a.Replace("*", "localhost").Replace("[::]", "localhost")).Port).First(p => p != except);
    }

    private static IPAddress? NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
}
