using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Dashboard;

/// <summary>Runs an operator's action once the request has passed every check, and redirects back with its outcome.</summary>
internal static class DashboardActions
{
    /// <summary>The longest an action may wait for the database (a transition retries while the database is away).</summary>
    private static readonly TimeSpan ActionTimeout = TimeSpan.FromSeconds(15);

    public static async Task<IResult> RunAsync(HttpContext context, bool signIn, Func<CancellationToken, Task<JobActionOutcome>> action)
    {
        var access = context.RequestServices.GetRequiredService<DashboardAccess>();
        if (!access.ActionsEnabled)
        {
            return DashboardResponses.Message(context, "Read-only", "Actions are turned off on this dashboard (Dashboard:ActionsEnabled).", StatusCodes.Status403Forbidden);
        }

        if (signIn && !access.IsSignedIn(context))
        {
            return DashboardResponses.Message(context, "Sign in first",
                "Retrying and cancelling jobs needs the dashboard token: sign in, then try again (a session ends when it expires or is signed out).",
                StatusCodes.Status401Unauthorized);
        }

        if (await access.RefuseForgedAsync(context) is { } forged)
        {
            return DashboardResponses.Message(context, "Refused", forged, StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        bound.CancelAfter(ActionTimeout);
        JobActionOutcome outcome;
        try
        {
            outcome = await action(bound.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            outcome = new JobActionOutcome(false,
                $"The job database did not answer within {ActionTimeout.TotalSeconds:0} s, so the action may not have been applied: look at the job again before repeating it.");
        }

        return DashboardResponses.Back(context, form["returnTo"], outcome.Message);
    }
}
