using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Dashboard;

/// <summary>What a job's page shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class JobModel
{
    internal JobModel(Job job, List<JobEvent> history, DateTime now, List<JobRelative>? parents = null, List<JobRelative>? continuations = null) =>
        (Job, History, Now, Parents, Continuations) = (job, history, now, parents ?? [], continuations ?? []);

    /// <summary>The jobs this one was submitted to wait for (its <c>After</c>), each with its state; empty for most jobs.</summary>
    internal List<JobRelative> Parents { get; }

    /// <summary>The first continuations that wait, or waited, for this job (at most <see cref="JobHandler.ContinuationsShown"/>).</summary>
    internal List<JobRelative> Continuations { get; }

    internal Job Job { get; }

    internal List<JobEvent> History { get; }

    internal DateTime Now { get; }
}
