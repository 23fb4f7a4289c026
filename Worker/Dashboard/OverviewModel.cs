using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;

namespace JobWorker.Dashboard;

/// <summary>What the overview page shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class OverviewModel
{
    internal OverviewModel(
        Dictionary<JobState, long> counts, List<MinuteCount> minutes, IReadOnlyList<QueueDepth>? queues, string? brokerError,
        List<JobSummary> dueSoon, List<ReplicaView> replicas, DateTime now, string queueName, QueuePause? pause) =>
        (Counts, Minutes, Queues, BrokerError, DueSoon, Replicas, Now, QueueName, Pause) =
        (counts, minutes, queues, brokerError, dueSoon, replicas, now, queueName, pause);

    /// <summary>This deployment's queue (<c>Jobs:QueueName</c>), the one the Pause button pauses.</summary>
    internal string QueueName { get; }

    /// <summary>An operator's pause of it; null while it runs.</summary>
    internal QueuePause? Pause { get; }

    internal Dictionary<JobState, long> Counts { get; }

    internal List<MinuteCount> Minutes { get; }

    internal IReadOnlyList<QueueDepth>? Queues { get; }

    internal string? BrokerError { get; }

    internal List<JobSummary> DueSoon { get; }

    internal List<ReplicaView> Replicas { get; }

    internal DateTime Now { get; }
}
