using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Dashboard;

/// <summary>Logs, once at start, where the dashboard is and what it allows, so an operator can open it from the log.</summary>
internal sealed partial class DashboardStartupReport(IOptions<DashboardOptions> options, ILogger<DashboardStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            return Task.CompletedTask;
        }

        var where = o.Port == 0 ? $"under {o.Path}/ on this host's own listeners" : $"at {Url(o)}";
        var who = (o.AllowRemote ? "answering any peer (Dashboard:AllowRemote)" : "answering loopback peers only")
            + $" that name {string.Join(", ", o.HostNames())} (Dashboard:AllowedHosts)";
        var what = o.ActionsEnabled
            ? $"retry and cancel on for operators signed in with Dashboard:Token (sessions end after {o.SessionLifetime}, or {o.SessionIdleTimeout} unused)"
            : "read-only";
        LogDashboard(logger, where, who, what);
        if (o.ActionsEnabled && o.AllowRemote)
        {
            LogCleartext(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The address to open; a listener on every interface is opened through loopback.</summary>
    public static string Url(DashboardOptions o)
    {
        var host = o.Address is "0.0.0.0" or "::" ? "127.0.0.1" : o.Address.Contains(':') ? $"[{o.Address}]" : o.Address;
        return $"http://{host}:{o.Port}{o.Path}/";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard {Where}, {Who}, {What}")]
    private static partial void LogDashboard(ILogger logger, string where, string who, string what);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Dashboard actions are on and remote peers are answered: the listener is plain HTTP, so put TLS (an ingress or proxy) in front of it, or the token travels in clear")]
    private static partial void LogCleartext(ILogger logger);
}
