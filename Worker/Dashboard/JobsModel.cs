using JobWorker.Jobs;

namespace JobWorker.Dashboard;

/// <summary>What the jobs list shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class JobsModel
{
    internal JobsModel(JobFilter filter, JobCursor? before, List<JobSummary> jobs, int pageSize, IReadOnlyList<string> problems) =>
        (Filter, Before, Jobs, PageSize, Problems) = (filter, before, jobs, pageSize, problems);

    internal JobFilter Filter { get; }

    internal JobCursor? Before { get; }

    internal List<JobSummary> Jobs { get; }

    internal int PageSize { get; }

    internal IReadOnlyList<string> Problems { get; }
}
