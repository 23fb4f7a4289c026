using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace JobWorker.Dashboard;

/// <summary>
/// Who may see the dashboard and who may act on it. Seeing: requests naming one of <c>Dashboard:AllowedHosts</c>, from
/// loopback peers unless <c>Dashboard:AllowRemote</c>. Acting: <c>Dashboard:ActionsEnabled</c>, a session started by
/// signing in with <c>Dashboard:Token</c> (an HttpOnly, SameSite=Strict cookie holding a random session id), and on
/// every POST ASP.NET Core's antiforgery token.
/// </summary>
internal sealed partial class DashboardAccess(
    IOptions<DashboardOptions> options, DashboardSessions sessions, IAntiforgery antiforgery, ILogger<DashboardAccess> logger)
{
    public const string SessionCookie = "jobworker-dashboard";

    private readonly string[] _hosts = options.Value.HostNames();
    private readonly StringSegment[] _patterns = [.. options.Value.HostNames().Select(name => new StringSegment(name))];

    private DashboardOptions Options => options.Value;

    /// <summary>Null when the request names one of the allowed hosts; else why it is refused.</summary>
    public string? RefuseHost(HttpContext context)
    {
        var host = context.Request.Host;
        if (host.HasValue && HostString.MatchesAny(host.Host, _patterns))
        {
            return null;
        }

        LogForeignHost(logger, host.Value ?? "", context.Connection.RemoteIpAddress);
        return $"The dashboard answers only the host names in Dashboard:AllowedHosts ({string.Join(", ", _hosts)}); this request named '{host.Value}'.";
    }

    /// <summary>Null when the request's peer may see the dashboard; else why not.</summary>
    public string? RefusePeer(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (Options.AllowRemote || peer is null || IPAddress.IsLoopback(peer))
        {
            return null;
        }

        return $"The dashboard answers requests from this machine only; {peer} is not loopback. Reach it through a port-forward or tunnel, or set Dashboard:AllowRemote behind an authenticating proxy.";
    }

    public bool ActionsEnabled => Options.ActionsEnabled;

    /// <summary>True when the request carries a live session; the request keeps it alive.</summary>
    public bool IsSignedIn(HttpContext context) =>
        Options.ActionsEnabled && sessions.Touch(context.Request.Cookies[SessionCookie]);

    /// <summary>Checks <paramref name="token"/> against <c>Dashboard:Token</c> in constant time.</summary>
    public bool IsToken(string? token) =>
        Options.ActionsEnabled && token is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token.Trim())), SHA256.HashData(Encoding.UTF8.GetBytes(Options.Token!.Trim())));

    public void SignIn(HttpContext context)
    {
        sessions.End(context.Request.Cookies[SessionCookie]);
        var cookie = CookieOptions(context);
        cookie.MaxAge = Options.SessionLifetime;
        context.Response.Cookies.Append(SessionCookie, sessions.Start(), cookie);
    }

    /// <summary>Ends the session on the server, so a copy of the cookie stops working too, and drops the cookie.</summary>
    public void SignOut(HttpContext context)
    {
        sessions.End(context.Request.Cookies[SessionCookie]);
        context.Response.Cookies.Delete(SessionCookie, CookieOptions(context));
    }

    /// <summary>Null when the POST came from one of this dashboard's own forms; else why it is refused.</summary>
    public async Task<string?> RefuseForgedAsync(HttpContext context)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return null;
        }
        catch (AntiforgeryValidationException)
        {
            return "The form did not come from this dashboard, or it has expired (the dashboard restarted): reload the page and try again.";
        }
    }

    private CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = context.Request.PathBase.Add(Options.Path).Value,
        IsEssential = true,
    };

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Dashboard request for host '{Host}' from {Peer} refused: not one of Dashboard:AllowedHosts (a DNS-rebinding page, or a name to add to the setting)")]
    private static partial void LogForeignHost(ILogger logger, string host, IPAddress? peer);
}
