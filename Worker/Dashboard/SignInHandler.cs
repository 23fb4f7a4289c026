using System.Globalization;
using System.Net;
using JobWorker.Dashboard.Pages;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>Signing in with the dashboard token: wrong tokens are slowed and then refused per address (<see cref="SignInThrottle"/>).</summary>
internal static class SignInHandler
{
    /// <summary>The sign-in page; its form returns to the page the sign-in link was followed from (checked again on the way back).</summary>
    public static IResult Show(HttpContext context)
    {
        var frame = DashboardResponses.Frame(context);
        var returnTo = context.Request.Query["returnTo"].ToString();
        return DashboardResponses.Page<SignInPage>(context, [], frame: frame.WithReturnTo(returnTo.Length == 0 ? $"{frame.BasePath}/" : returnTo));
    }

    public static async Task<IResult> HandleAsync(HttpContext context, DashboardAccess access, SignInThrottle throttle)
    {
        if (!access.ActionsEnabled)
        {
            return DashboardResponses.Message(context, "Read-only", "Actions are turned off (Dashboard:ActionsEnabled), so there is nothing to sign in to.", StatusCodes.Status403Forbidden);
        }

        if (await access.RefuseForgedAsync(context) is { } forged)
        {
            return DashboardResponses.Message(context, "Refused", forged, StatusCodes.Status400BadRequest);
        }

        var peer = context.Connection.RemoteIpAddress ?? IPAddress.None;
        if (throttle.Refusal(peer) is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return DashboardResponses.Message(context, "Too many wrong tokens",
                $"Too many wrong tokens from {peer}: try again in {Math.Ceiling(wait.TotalSeconds):0} s.", StatusCodes.Status429TooManyRequests);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!access.IsToken(form["token"]))
        {
            await throttle.FailedAsync(peer, context.RequestAborted);
            var frame = DashboardResponses.Frame(context).WithReturnTo(form["returnTo"].ToString());
            return DashboardResponses.Page<SignInPage>(context, new() { ["Problem"] = "That is not the dashboard token." }, StatusCodes.Status401Unauthorized, frame);
        }

        access.SignIn(context);
        return DashboardResponses.Back(context, form["returnTo"], "Signed in: you can retry and cancel jobs.");
    }
}
