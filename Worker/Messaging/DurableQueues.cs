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

    /// <summary>Asks RabbitMQ to return a message no queue takes; MassTransit then fails the send.</summary>
    public static void Mandatory(SendContext context)
    {
        if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
        {
            rabbit.Mandatory = true;
        }
    }
}
