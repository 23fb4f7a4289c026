using System.ComponentModel.DataAnnotations;

namespace JobWorker.Dashboard;

/// <summary>
/// The operator dashboard: whether it is served, where, to whom, and whether it may act. Section <c>Dashboard</c>.
/// Off by default; when on, it listens on loopback, answers loopback requests only, and is read-only.
/// </summary>
internal sealed class DashboardOptions : IValidatableObject
{
    public const string Section = "Dashboard";

    /// <summary>The shortest token accepted: guessing it must be out of reach.</summary>
    public const int MinTokenLength = 16;

    /// <summary>Serve the dashboard (the worker's own listener, or where a host maps it). <c>jobworker dashboard</c> turns it on itself.</summary>
    public bool Enabled { get; set; }

    /// <summary>The address of the dashboard's own listener. Loopback by default: reach it with a port-forward or a tunnel.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Dashboard:Address is required (an IP address such as 127.0.0.1 or 0.0.0.0).")]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The port of the dashboard's own listener; 0 gives it none, and it is served by the host's own listeners.</summary>
    [Range(0, 65535, ErrorMessage = "Dashboard:Port must be between 0 and 65535.")]
    public int Port { get; set; } = 8090;

    /// <summary>Where the pages live, under the listener's root.</summary>
    [RegularExpression("^/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$", ErrorMessage = "Dashboard:Path must start with '/' and not end with one, e.g. /dashboard.")]
    public string Path { get; set; } = "/dashboard";

    /// <summary>
    /// Answer requests from other machines. Off by default, as Hangfire's dashboard is: with it off, a request whose
    /// peer is not loopback gets 403 whatever the listener's address. Turn it on only behind an authenticating proxy.
    /// </summary>
    public bool AllowRemote { get; set; }

    /// <summary>
    /// The host names the dashboard answers, separated by ';': the request's Host header without its port must be one
    /// of them, so a page on another site cannot reach this listener through DNS rebinding. Loopback names by default;
    /// add the name a tunnel or ingress uses. <c>*.example.org</c> matches that domain's sub-domains; <c>*</c> alone
    /// answers every name (only behind a proxy that checks the name itself).
    /// </summary>
    public string AllowedHosts { get; set; } = "localhost;127.0.0.1;[::1]";

    /// <summary>The names of <see cref="AllowedHosts"/>, one each.</summary>
    public string[] HostNames() => AllowedHosts.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>How long a sign-in lasts at most, however busy the session: then the operator signs in again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Dashboard:SessionLifetime must be between 1 s and 7 days.")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long a session lasts without a request (an open page's refreshes count as requests).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Dashboard:SessionIdleTimeout must be between 1 s and 1 day.")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Show the retry and cancel buttons, and accept them from operators who signed in with <see cref="Token"/>.</summary>
    public bool ActionsEnabled { get; set; }

    /// <summary>The secret operators sign in with before acting. Set it through <c>Dashboard__Token</c> or a secret store, never in committed config.</summary>
    public string? Token { get; set; }

    /// <summary>How often the overview and a job's page refresh themselves.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Dashboard:RefreshInterval must be between 500 ms and 10 min.")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Jobs per page of the jobs list.</summary>
    [Range(10, 500, ErrorMessage = "Dashboard:PageSize must be between 10 and 500.")]
    public int PageSize { get; set; } = 50;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.IPAddress.TryParse(Address, out _))
        {
            yield return new ValidationResult($"Dashboard:Address '{Address}' is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0).", [nameof(Address)]);
        }

        if (HostNames().Length == 0)
        {
            yield return new ValidationResult("Dashboard:AllowedHosts names no host (give names separated by ';', e.g. localhost;127.0.0.1;[::1]).", [nameof(AllowedHosts)]);
        }

        foreach (var name in HostNames().Where(name => !IsHostPattern(name)))
        {
            yield return new ValidationResult(
                $"Dashboard:AllowedHosts '{name}' is not a host name (give names only, without scheme, port or path: ops.example.org, *.example.org, 127.0.0.1, [::1]).",
                [nameof(AllowedHosts)]);
        }

        if (ActionsEnabled && (Token is null || Token.Trim().Length < MinTokenLength))
        {
            yield return new ValidationResult(
                $"Dashboard:ActionsEnabled needs Dashboard:Token, a secret of at least {MinTokenLength} characters; set it through Dashboard__Token or a secret store.",
                [nameof(Token)]);
        }
    }

    private static bool IsHostPattern(string name)
    {
        if (name == "*")
        {
            return true;
        }

        var host = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
        return Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4
            || (host.StartsWith('[') && Uri.CheckHostName(host) == UriHostNameType.IPv6);
    }
}
