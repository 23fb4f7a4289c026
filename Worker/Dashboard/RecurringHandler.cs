using JobWorker.Dashboard.Pages;
using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>The Recurring page: every schedule, its next run, its last occurrence and that job's outcome.</summary>
internal static class RecurringHandler
{
    public static async Task<IResult> HandleAsync(HttpContext context, RecurringControl control)
    {
        var schedules = await control.ListAsync(context.RequestAborted);
        return DashboardResponses.Page<RecurringPage>(context, new() { ["Model"] = new RecurringModel(schedules) });
    }
}
