using JobWorker.Dashboard.Pages;
using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>The Limits page: each limited job type, its limits, places in use, jobs waiting, starts in the rate window and busiest keys.</summary>
internal static class LimitsHandler
{
    public static async Task<IResult> HandleAsync(HttpContext context, JobLimitsView limits)
    {
        var usages = await limits.ListAsync(context.RequestAborted);
        return DashboardResponses.Page<LimitsPage>(context, new() { ["Model"] = new LimitsModel(usages) });
    }
}
