using JobWorker.Persistence;

namespace JobWorker.Dashboard;

/// <summary>What a job's page shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class JobModel
{
    internal JobModel(Job job, List<JobEvent> history, DateTime now) => (Job, History, Now) = (job, history, now);

    internal Job Job { get; }

    internal List<JobEvent> History { get; }

    internal DateTime Now { get; }
}
