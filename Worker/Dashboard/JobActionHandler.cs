using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>Retry and cancel, through <see cref="JobControl"/>: the same state changes the API makes.</summary>
internal static class JobActionHandler
{
    public static Task<IResult> RetryAsync(HttpContext context, Guid id, JobControl control) =>
        DashboardActions.RunAsync(context, signIn: true, ct => control.RetryAsync(id, 1, ct));

    public static Task<IResult> CancelAsync(HttpContext context, Guid id, JobControl control) =>
        DashboardActions.RunAsync(context, signIn: true, ct => control.CancelAsync(id, "Cancelled from the dashboard.", ct));

    /// <summary>Retries every failed job the posted filter matches.</summary>
    public static async Task<IResult> RetryFailedAsync(HttpContext context, JobControl control)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var (filter, problems) = JobFilterForm.Read(key => form[key]);
        if (problems.Count > 0)
        {
            return DashboardResponses.Message(context, "Nothing retried", string.Join(" ", problems), StatusCodes.Status400BadRequest);
        }

        return await DashboardActions.RunAsync(context, signIn: true, ct => control.RetryMatchingAsync(filter with { State = JobState.Failed }, 1, ct));
    }
}
