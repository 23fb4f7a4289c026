using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>Pause, resume and trigger a recurring schedule through <see cref="RecurringControl"/>: the same change the CLI makes.</summary>
internal static class RecurringActionHandler
{
    public static Task<IResult> PauseAsync(HttpContext context, string key, RecurringControl control) =>
        DashboardActions.RunAsync(context, signIn: true, ct => control.PauseAsync(key, "the dashboard", ct));

    public static Task<IResult> ResumeAsync(HttpContext context, string key, RecurringControl control) =>
        DashboardActions.RunAsync(context, signIn: true, ct => control.ResumeAsync(key, ct));

    public static Task<IResult> TriggerAsync(HttpContext context, string key, RecurringControl control) =>
        DashboardActions.RunAsync(context, signIn: true, ct => control.TriggerAsync(key, ct));
}
