using JobWorker.Dashboard.Pages;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobWorker.Dashboard;

/// <summary>How the dashboard answers: a page rendered from its Razor component, or a redirect back carrying a notice.</summary>
internal static class DashboardResponses
{
    private const string NoticeCookie = "jobworker-dashboard-notice";

    /// <summary>Renders <typeparamref name="TPage"/> with the frame of this request added to <paramref name="parameters"/>.</summary>
    public static IResult Page<TPage>(HttpContext context, Dictionary<string, object?> parameters, int status = StatusCodes.Status200OK, PageFrame? frame = null)
        where TPage : IComponent
    {
        parameters["Frame"] = frame ?? Frame(context);
        return new RazorComponentResult<TPage>(parameters) { StatusCode = status };
    }

    public static IResult Message(HttpContext context, string title, string message, int status) =>
        Page<MessagePage>(context, new() { ["Title"] = title, ["Message"] = message }, status);

    /// <summary>Redirects to <paramref name="returnTo"/> when it is one of the dashboard's own pages (never elsewhere), carrying <paramref name="notice"/>.</summary>
    public static IResult Back(HttpContext context, string? returnTo, string notice)
    {
        var home = BasePath(context);
        var target = returnTo is not null && returnTo.StartsWith(home + "/", StringComparison.Ordinal) && !returnTo.StartsWith("//", StringComparison.Ordinal)
            && Uri.IsWellFormedUriString(returnTo, UriKind.Relative)
            ? returnTo
            : home + "/";
        context.Response.Cookies.Append(NoticeCookie, Uri.EscapeDataString(notice), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = home,
            MaxAge = TimeSpan.FromMinutes(1),
        });
        return Results.Redirect(target, permanent: false, preserveMethod: false);
    }

    /// <summary>This request's frame: where the dashboard is, whether this visitor is signed in, and the notice the last action left.</summary>
    public static PageFrame Frame(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<DashboardOptions>>().Value;
        var access = context.RequestServices.GetRequiredService<DashboardAccess>();
        var basePath = BasePath(context);
        string? notice = null;
        if (context.Request.Cookies.TryGetValue(NoticeCookie, out var carried))
        {
            notice = Uri.UnescapeDataString(carried);
            context.Response.Cookies.Delete(NoticeCookie, new CookieOptions { Path = basePath });
        }

        return new PageFrame(basePath, $"{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}",
            options.ActionsEnabled, access.IsSignedIn(context), notice, options.RefreshInterval);
    }

    private static string BasePath(HttpContext context) =>
        $"{context.Request.PathBase}{context.RequestServices.GetRequiredService<IOptions<DashboardOptions>>().Value.Path}";
}
