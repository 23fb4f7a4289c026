using JobWorker.Dashboard.Pages;
using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>One job's page: its facts, the jobs it waits for and its continuations, attempts, payload, result and events.</summary>
internal static class JobHandler
{
    /// <summary>Continuations listed under a parent at most: a fan-out of thousands is for the jobs list, not one page.</summary>
    public const int ContinuationsShown = 50;

    public static async Task<IResult> HandleAsync(HttpContext context, Guid id, JobQueries queries, JobStore store)
    {
        var job = await queries.FindAsync(id, context.RequestAborted);
        if (job is null)
        {
            return DashboardResponses.Message(context, "No such job", $"No job with id {id} is recorded (it may have been purged).", StatusCodes.Status404NotFound);
        }

        var history = await queries.HistoryAsync(id, context.RequestAborted);
        var parents = await store.ParentsAsync(id, context.RequestAborted);
        var continuations = await queries.ContinuationsAsync(id, ContinuationsShown, context.RequestAborted);
        return DashboardResponses.Page<JobPage>(context, new() { ["Model"] = new JobModel(job, history, DateTime.UtcNow, parents, continuations) });
    }
}
