using MassTransit;

namespace JobWorker.Messaging;

/// <summary>
/// How the deployment's durable queues (jobs, cancels, status requests) are declared and sent to, by <c>RabbitMq:QueueType</c>.
/// </summary>
internal static class DurableQueues
{
    /// <summary>
    /// Declares the endpoint's queue as the setting says. MassTransit copies a queue's arguments to its <c>_error</c> and
    /// <c>_skipped</c> queues, so they are quorum queues too and no dead letter lives on one node only.
    /// </summary>
    public static void Configure(IReceiveEndpointConfigurator endpoint, RabbitMqOptions options)
    {
        if (options.QueueType == RabbitMqQueueType.Quorum && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }

    /// <summary>
    /// Where a send to <paramref name="queue"/> goes. A classic queue is declared by the send itself (<c>queue:</c>), as
    /// before. A send cannot declare a quorum queue (MassTransit's send addresses carry no queue type, and RabbitMQ refuses
    /// a declare without <c>x-queue-type</c> of an existing quorum queue), so it goes to the queue's exchange, which the
    /// workers' endpoints bind to the queue; <see cref="Mandatory"/> makes a send that no queue takes fail rather than vanish.
    /// </summary>
    public static Uri SendAddress(string queue, RabbitMqOptions options) =>
        options.QueueType == RabbitMqQueueType.Quorum ? new Uri($"exchange:{queue}") : new Uri($"queue:{queue}");

    /// <summary>
    /// Where a SubmitJob to the jobs queue <paramref name="queue"/> goes, declared as a priority queue first when it is
    /// classic: the client package's <see cref="JobsQueue"/>, the one copy every sender uses.
    /// </summary>
    public static Task<Uri> JobsSendAddressAsync(string queue, RabbitMqOptions options, CancellationToken cancellationToken) =>
        JobsQueue.SendAddressAsync(queue, JobsBroker(options), cancellationToken);

    /// <summary><see cref="JobsSendAddressAsync"/> with the declare given.</summary>
    internal static Task<Uri> JobsSendAddressCoreAsync(
        string queue, RabbitMqOptions options, Func<string, RabbitMqOptions, CancellationToken, Task> declare, CancellationToken cancellationToken) =>
        JobsQueue.SendAddressCoreAsync(queue, JobsBroker(options), (q, ct) => declare(q, options, ct), cancellationToken);

    /// <summary>The broker as <see cref="JobsQueue"/> sees it, from these settings.</summary>
    public static JobsQueueBroker JobsBroker(RabbitMqOptions options) => new(
        $"{options.Nodes()[0]}{options.VirtualHost}", options.QueueType == RabbitMqQueueType.Classic, options.PublishTimeout, options.ConnectAsync);

    /// <summary>Sets the message's AMQP priority, which a RabbitMQ priority queue orders by (it never reads the body).</summary>
    public static void Priority(SendContext context, int priority) => JobsQueue.Priority(context, priority);

    /// <summary>Asks RabbitMQ to return a message no queue takes; MassTransit then fails the send.</summary>
    public static void Mandatory(SendContext context) => JobsQueue.Mandatory(context);
}
