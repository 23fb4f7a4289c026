using JobWorker.Jobs;

namespace JobWorker.Messaging;

/// <summary>
/// Every queue and exchange name JobWorker uses, built in one place from <c>Jobs:QueueName</c>. A deployment (the
/// workers, CLI and dashboard sharing one queue name and one database) touches only names that start with it, so
/// deployments can share a RabbitMQ virtual host.
/// </summary>
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
    /// What the deployment's message-type exchanges are prefixed with: <c>&lt;QueueName&gt;:</c>, so JobSucceeded is published
    /// to <c>jobworker:JobWorker.Contracts:JobSucceeded</c> rather than to MassTransit's broker-wide
    /// <c>JobWorker.Contracts:JobSucceeded</c>. A queue name holds no ':', so the prefix cannot be mistaken for another's.
    /// </summary>
    public static string ExchangePrefix(JobOptions options) => $"{options.QueueName}:";

    /// <summary>
    /// The queue an endpoint address names: its last path segment, whatever the virtual host
    /// (<c>rabbitmq://host/vhost/queue</c> or <c>rabbitmq://host/queue</c>).
    /// </summary>
    public static string Of(Uri address) => Uri.UnescapeDataString(address.Segments[^1].TrimEnd('/'));
}
