using JobWorker.Jobs;

namespace JobWorker.Dashboard;

/// <summary>What the jobs list shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class JobsModel
{
    internal JobsModel(JobFilter filter, JobOrder order, JobCursor? before, List<JobSummary> jobs, int pageSize, IReadOnlyList<string> problems, DateTime now) =>
        (Filter, Order, Before, Jobs, PageSize, Problems, Now) = (filter, order, before, jobs, pageSize, problems, now);

    internal JobFilter Filter { get; }

    internal JobOrder Order { get; }

    /// <summary>When the page was read, to say how soon a scheduled job is due.</summary>
    internal DateTime Now { get; }

    internal JobCursor? Before { get; }

    internal List<JobSummary> Jobs { get; }

    internal int PageSize { get; }

    internal IReadOnlyList<string> Problems { get; }
}
