using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace JobWorker.Dashboard;

/// <summary>Pause and resume this deployment's queue across the fleet, through <see cref="QueueControl"/>: the same change the CLI makes.</summary>
internal static class QueueActionHandler
{
    public static Task<IResult> PauseAsync(HttpContext context, QueueControl control, IOptions<JobOptions> jobs) =>
        DashboardActions.RunAsync(context, signIn: true, ct => control.PauseAsync(jobs.Value.QueueName, "the dashboard", "Paused from the dashboard.", ct));

    public static Task<IResult> ResumeAsync(HttpContext context, QueueControl control, IOptions<JobOptions> jobs) =>
        DashboardActions.RunAsync(context, signIn: true, ct => control.ResumeAsync(jobs.Value.QueueName, ct));
}
