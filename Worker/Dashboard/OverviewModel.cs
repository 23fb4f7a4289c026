using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;

namespace JobWorker.Dashboard;

/// <summary>What the overview page shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class OverviewModel
{
    internal OverviewModel(
        Dictionary<JobState, long> counts, List<MinuteCount> minutes, IReadOnlyList<QueueDepth>? queues, string? brokerError,
        List<JobSummary> dueSoon, List<ReplicaView> replicas, DateTime now) =>
        (Counts, Minutes, Queues, BrokerError, DueSoon, Replicas, Now) = (counts, minutes, queues, brokerError, dueSoon, replicas, now);

    internal Dictionary<JobState, long> Counts { get; }

    internal List<MinuteCount> Minutes { get; }

    internal IReadOnlyList<QueueDepth>? Queues { get; }

    internal string? BrokerError { get; }

    internal List<JobSummary> DueSoon { get; }

    internal List<ReplicaView> Replicas { get; }

    internal DateTime Now { get; }
}
