using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace JobWorker.Dashboard;

/// <summary>
/// Who may see the dashboard and who may act on it. Seeing: loopback peers, unless <c>Dashboard:AllowRemote</c>.
/// Acting: <c>Dashboard:ActionsEnabled</c>, a sign-in with <c>Dashboard:Token</c> (kept as an HttpOnly, SameSite=Strict
/// cookie holding a keyed hash of the token, never the token itself), and on every POST ASP.NET Core's antiforgery token.
/// </summary>
internal sealed class DashboardAccess(IOptions<DashboardOptions> options, IAntiforgery antiforgery)
{
    public const string SessionCookie = "jobworker-dashboard";

    private DashboardOptions Options => options.Value;

    /// <summary>Null when the request may see the dashboard; else why not.</summary>
    public string? RefuseViewing(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (Options.AllowRemote || peer is null || IPAddress.IsLoopback(peer))
        {
            return null;
        }

        return $"The dashboard answers requests from this machine only; {peer} is not loopback. Reach it through a port-forward or tunnel, or set Dashboard:AllowRemote behind an authenticating proxy.";
    }

    public bool ActionsEnabled => Options.ActionsEnabled;

    public bool IsSignedIn(HttpContext context) =>
        Options.ActionsEnabled
        && context.Request.Cookies.TryGetValue(SessionCookie, out var presented)
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), Encoding.ASCII.GetBytes(SessionValue()));

    /// <summary>Checks <paramref name="token"/> against <c>Dashboard:Token</c> in constant time.</summary>
    public bool IsToken(string? token) =>
        Options.ActionsEnabled && token is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token.Trim())), SHA256.HashData(Encoding.UTF8.GetBytes(Options.Token!.Trim())));

    public void SignIn(HttpContext context) =>
        context.Response.Cookies.Append(SessionCookie, SessionValue(), CookieOptions(context));

    public void SignOut(HttpContext context) =>
        context.Response.Cookies.Delete(SessionCookie, CookieOptions(context));

    /// <summary>The hidden form field every POST form carries, and the cookie it is checked against.</summary>
    public AntiforgeryTokenSet FormToken(HttpContext context) => antiforgery.GetAndStoreTokens(context);

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

    /// <summary>A keyed hash of the token: what the cookie holds, so a stolen cookie does not reveal the token.</summary>
    private string SessionValue() =>
        Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Options.Token!.Trim()), "jobworker-dashboard-session/1"u8));

    private CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = context.Request.PathBase.Add(Options.Path).Value,
        IsEssential = true,
    };
}
