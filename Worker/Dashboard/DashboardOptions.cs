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

        if (ActionsEnabled && (Token is null || Token.Trim().Length < MinTokenLength))
        {
            yield return new ValidationResult(
                $"Dashboard:ActionsEnabled needs Dashboard:Token, a secret of at least {MinTokenLength} characters; set it through Dashboard__Token or a secret store.",
                [nameof(Token)]);
        }
    }
}
