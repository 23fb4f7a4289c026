using JobWorker.Dashboard.Pages;
using JobWorker.Jobs;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace JobWorker.Dashboard;

/// <summary>The jobs list: newest first (or Pending jobs due soonest first), filtered by the query, a page at a time.</summary>
internal static class JobsHandler
{
    public static async Task<IResult> HandleAsync(HttpContext context, JobQueries queries, IOptions<DashboardOptions> options)
    {
        var query = context.Request.Query;
        var (filter, problems) = JobFilterForm.Read(key => query[key]);
        var order = JobFilterForm.Order(query["sort"], problems);
        JobCursor? before = null;
        if (!StringValues.IsNullOrEmpty(query["before"]))
        {
            if (JobCursor.TryParse(query["before"], out var cursor))
            {
                before = cursor;
            }
            else
            {
                problems.Add($"'before' ({query["before"]}) is not a page position from this list; showing the newest jobs.");
            }
        }

        var jobs = await queries.ListAsync(filter, before, options.Value.PageSize, context.RequestAborted, order);
        var model = new JobsModel(filter, order, before, jobs, options.Value.PageSize, problems, DateTime.UtcNow);
        return DashboardResponses.Page<JobsPage>(context, new() { ["Model"] = model },
            problems.Count > 0 ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK);
    }
}
