using JobWorker.Dashboard.Pages;
using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>One job's page: its facts, attempts, payload, result and events.</summary>
internal static class JobHandler
{
    public static async Task<IResult> HandleAsync(HttpContext context, Guid id, JobQueries queries)
    {
        var job = await queries.FindAsync(id, context.RequestAborted);
        if (job is null)
        {
            return DashboardResponses.Message(context, "No such job", $"No job with id {id} is recorded (it may have been purged).", StatusCodes.Status404NotFound);
        }

        var history = await queries.HistoryAsync(id, context.RequestAborted);
        return DashboardResponses.Page<JobPage>(context, new() { ["Model"] = new JobModel(job, history, DateTime.UtcNow) });
    }
}
