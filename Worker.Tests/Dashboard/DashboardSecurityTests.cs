using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobWorker.Tests.Dashboard;

/// <summary>
/// What a page on another site, or someone holding an old cookie, can do to the dashboard: a foreign Host header (DNS
/// rebinding) is refused, a session ends when it expires or is signed out, and wrong tokens are slowed, then refused.
/// </summary>
[NonParallelizable]
public sealed class DashboardSecurityTests
{
    private const string Token = "security-test-token-0123456789";

    [Test, Description("A DNS-rebinding page reaches the loopback listener under its own host name; only the configured names are answered.")]
    public async Task A_request_naming_a_host_that_is_not_allowed_is_refused()
    {
        var port = DashboardBrowser.FreePort();
        var logs = new LogCapture();
        await using var worker = await TestWorker.StartAsync(Settings(port), w => w.Services.AddSingleton<ILoggerProvider>(logs));
        using var http = new DashboardHttp(port);

        var foreign = await GetAsync(http, "/dashboard/jobs", $"evil.example:{port}");
        var localhost = await GetAsync(http, "/dashboard/jobs", $"localhost:{port}");
        var ipv4 = await GetAsync(http, "/dashboard/jobs", $"127.0.0.1:{port}");
        var asset = await GetAsync(http, "/dashboard/assets/dashboard.css", $"evil.example:{port}");

        Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await foreign.Content.ReadAsStringAsync(), Does.Contain("Dashboard:AllowedHosts").And.Not.Contain("<table"));
        Assert.That(asset.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((localhost.StatusCode, ipv4.StatusCode), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK)));
        Assert.That(logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message), Has.Some.Contains("evil.example"));
    }

    [Test]
    public async Task A_host_name_of_the_operators_own_is_answered_once_configured()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(Settings(port, ("Dashboard:AllowedHosts", "ops.example.org;*.tunnel.example")));
        using var http = new DashboardHttp(port);

        var named = await GetAsync(http, "/dashboard/", $"ops.example.org:{port}");
        var wildcard = await GetAsync(http, "/dashboard/", $"alice.tunnel.example:{port}");
        var loopback = await GetAsync(http, "/dashboard/", $"localhost:{port}");

        Assert.That((named.StatusCode, wildcard.StatusCode), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK)));
        Assert.That(loopback.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "the setting replaces the loopback names");
    }

    [Test, Description("Sign-out ends the session on the server: a copy of the cookie taken before it no longer acts.")]
    public async Task A_signed_out_session_cannot_act_even_with_a_copy_of_its_cookie()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(Settings(port));
        using var http = new DashboardHttp(port);
        await http.SignInAsync(Token);
        var copied = http.Session!.Value;

        var before = await http.PostFormAsync($"/dashboard/jobs/{Guid.NewGuid()}/cancel");
        var signOut = await http.PostFormAsync("/dashboard/logout");
        var cleared = http.Session;
        http.Cookies.Add(new Cookie("jobworker-dashboard", copied, "/dashboard", "127.0.0.1"));
        var after = await http.PostFormAsync($"/dashboard/jobs/{Guid.NewGuid()}/cancel");

        Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), "signed in: the action ran");
        Assert.That(signOut.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(cleared, Is.Null, "sign-out removes the cookie from the browser");
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await after.Content.ReadAsStringAsync(), Does.Contain("sign in"));
    }

    [TestCase("Dashboard:SessionLifetime", Description = "The absolute lifetime ends a session however busy it is.")]
    [TestCase("Dashboard:SessionIdleTimeout", Description = "A session left unused ends sooner.")]
    public async Task An_expired_session_cannot_act(string key)
    {
        // Long enough that signing in and one action fit in it on a loaded machine; the last action comes a second after
        // it ends, counted from before the sign-in, so it is expired under either setting.
        var lifetime = TimeSpan.FromSeconds(4);
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(Settings(port, (key, lifetime.ToString("c"))));
        using var http = new DashboardHttp(port);
        var clock = Stopwatch.StartNew();
        var signIn = await http.SignInAsync(Token);
        var session = http.Session!;

        var fresh = await http.PostFormAsync($"/dashboard/jobs/{Guid.NewGuid()}/cancel");
        var freshAt = clock.Elapsed;
        var untilExpired = lifetime + TimeSpan.FromSeconds(1) - clock.Elapsed;
        if (untilExpired > TimeSpan.Zero)
        {
            await Task.Delay(untilExpired);
        }
        var expired = await http.PostFormAsync($"/dashboard/jobs/{Guid.NewGuid()}/cancel");

        Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(session.Value, Has.Length.GreaterThanOrEqualTo(40), "a random session id, not derived from the token");
        Assert.That(fresh.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), $"within its lifetime the session acts (signed in and acted in {freshAt.TotalSeconds:0.0} s)");
        Assert.That(expired.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task Two_sign_ins_get_different_sessions()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(Settings(port));
        using var first = new DashboardHttp(port);
        using var second = new DashboardHttp(port);

        await first.SignInAsync(Token);
        await second.SignInAsync(Token);

        Assert.That(first.Session!.Value, Is.Not.EqualTo(second.Session!.Value));
    }

    [Test, Description("Wrong tokens from one address are answered ever more slowly, then refused for a while without being checked, and each is logged without its text.")]
    public async Task Repeated_wrong_tokens_are_slowed_then_refused_and_logged()
    {
        var port = DashboardBrowser.FreePort();
        var logs = new LogCapture();
        await using var worker = await TestWorker.StartAsync(Settings(port), w => w.Services.AddSingleton<ILoggerProvider>(logs));
        using var http = new DashboardHttp(port);

        var answers = new List<(HttpStatusCode Status, TimeSpan Took, HttpResponseMessage Response)>();
        for (var i = 0; i < 8; i++)
        {
            var clock = Stopwatch.StartNew();
            var response = await http.SignInAsync($"wrong-token-number-{i:00}-xxxxxxxx");
            answers.Add((response.StatusCode, clock.Elapsed, response));
        }

        var right = await http.SignInAsync(Token);

        var wrong = answers.Where(a => a.Status == HttpStatusCode.Unauthorized).ToList();
        var refused = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.That(wrong, Has.Count.EqualTo(5), "five wrong tokens are checked and answered 401");
        Assert.That(refused, Has.Count.EqualTo(3), "the rest are refused unchecked");
        // The fifth wrong token waits 100 ms << 4 = 1.6 s. A bound from below only: load slows the first answer as much as
        // the last, so comparing the two would flake.
        Assert.That(wrong[^1].Took, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.5)), "each wrong answer comes later than the one before");
        Assert.That(refused[0].Response.Headers.RetryAfter, Is.Not.Null);
        Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "while refused, even the right token is not checked");
        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Category.StartsWith("JobWorker.Dashboard", StringComparison.Ordinal)).ToList();
        Assert.That(warnings.Count(w => w.Message.Contains("wrong token", StringComparison.Ordinal)), Is.EqualTo(5));
        Assert.That(warnings.Select(w => w.Message), Has.None.Contains("wrong-token-number"), "the text tried is never logged");
        Assert.That(warnings.Select(w => w.Message), Has.Some.Contains("127.0.0.1"));
    }

    [Test, Description("The pages are templates that encode what they show: a job's type, error and payload cannot write markup.")]
    public async Task Text_from_a_job_is_shown_as_text_never_as_markup()
    {
        var port = DashboardBrowser.FreePort();
        await using var worker = await TestWorker.StartAsync(Settings(port));
        const string Hostile = "<img src=x onerror=alert(1)>";
        var job = new JobWorker.Jobs.NewJob(Guid.NewGuid(), $"t{Hostile}", $"{{\"html\":\"{Hostile}\"}}", 1, null, null);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
        await TestJobs.ApplyAsync(JobWorker.Jobs.JobLifecycle.Reject(job.Id, job.Type, $"failed {Hostile}"));
        using var http = new DashboardHttp(port);

        var page = await http.Client.GetStringAsync($"/dashboard/jobs/{job.Id}");
        var list = await http.Client.GetStringAsync($"/dashboard/jobs?type={Uri.EscapeDataString(job.Type)}");

        Assert.That(page, Does.Not.Contain("<img"));
        Assert.That(page, Does.Contain("failed &lt;img"));
        Assert.That(list, Does.Not.Contain("<img").And.Contain("t&lt;img"));
    }

    private static Dictionary<string, string?> Settings(int port, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dashboard:Enabled"] = "true", ["Dashboard:Port"] = port.ToString(), ["Dashboard:ActionsEnabled"] = "true", ["Dashboard:Token"] = Token,
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static Task<HttpResponseMessage> GetAsync(DashboardHttp http, string path, string host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        return http.Client.SendAsync(request);
    }
}
