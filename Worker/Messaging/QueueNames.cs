using JobWorker.Jobs;

namespace JobWorker.Messaging;

/// <summary>Every queue name JobWorker uses, built in one place from <c>Jobs:QueueName</c>.</summary>
internal static class QueueNames
{
    /// <summary>SubmitJob messages.</summary>
    public static string Jobs(JobOptions options) => options.QueueName;

    /// <summary>GetJobStatus requests.</summary>
    public static string Status(JobOptions options) => $"{options.QueueName}-status";

    /// <summary>CancelJob, durable and shared by the replicas: one of them records the request in the ledger.</summary>
    public static string Cancel(JobOptions options) => $"{options.QueueName}-cancel";

    /// <summary>CancelJob again, on a temporary queue per replica: the replica running the job stops it at once.</summary>
    public static string CancelNotices(JobOptions options, WorkerIdentity worker) => $"{options.QueueName}-cancel-{worker.Id}";

    /// <summary>
    /// The queue an endpoint address names: its last path segment, whatever the virtual host
    /// (<c>rabbitmq://host/vhost/queue</c> or <c>rabbitmq://host/queue</c>).
    /// </summary>
    public static string Of(Uri address) => Uri.UnescapeDataString(address.Segments[^1].TrimEnd('/'));
}
