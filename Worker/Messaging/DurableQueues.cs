using System.Collections.Concurrent;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

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
    /// The declares of the jobs queues this process sends to (see <see cref="JobsSendAddressAsync"/>), by broker and name:
    /// one at a time per queue, however many sends want it at once; one that failed is dropped so a later send tries again.
    /// </summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task>> DeclaredJobQueues = new();

    /// <summary>
    /// Where a SubmitJob to the jobs queue <paramref name="queue"/> goes: always its exchange, which the workers' endpoint
    /// binds to the queue. A classic jobs queue is a priority queue (<see cref="JobQueuePriority"/>), and a send to
    /// <c>queue:</c> would declare it without <c>x-max-priority</c>, which RabbitMQ refuses for a queue that has it. So for
    /// a classic queue the exchange, the queue (with <c>x-max-priority</c>, or as it already is) and their binding are
    /// declared here, once per process, and a submission sent before any worker ran still waits in the queue.
    /// </summary>
    public static Task<Uri> JobsSendAddressAsync(string queue, RabbitMqOptions options, CancellationToken cancellationToken) =>
        JobsSendAddressCoreAsync(queue, options, DeclareJobsQueueAsync, cancellationToken);

    /// <summary>
    /// <see cref="JobsSendAddressAsync"/> with the declare given. The declare
    /// runs on its own bound (<c>RabbitMq:PublishTimeout</c>), not the first caller's, so one caller giving up fails no
    /// other; each caller waits no longer than its own token.
    /// </summary>
    internal static async Task<Uri> JobsSendAddressCoreAsync(
        string queue, RabbitMqOptions options, Func<string, RabbitMqOptions, CancellationToken, Task> declare, CancellationToken cancellationToken)
    {
        if (options.QueueType == RabbitMqQueueType.Classic)
        {
            var key = $"{options.Nodes()[0]}{options.VirtualHost}/{queue}";
            var declaring = DeclaredJobQueues.GetOrAdd(key, _ => new Lazy<Task>(() => DeclareOnceAsync(queue, options, declare)));
            try
            {
                await declaring.Value.WaitAsync(cancellationToken);
            }
            catch when (declaring.Value.IsFaulted || declaring.Value.IsCanceled)
            {
                DeclaredJobQueues.TryRemove(new KeyValuePair<string, Lazy<Task>>(key, declaring));
                throw;
            }
        }

        return new Uri($"exchange:{queue}");
    }

    private static async Task DeclareOnceAsync(string queue, RabbitMqOptions options, Func<string, RabbitMqOptions, CancellationToken, Task> declare)
    {
        using var bound = new CancellationTokenSource(options.PublishTimeout);
        await declare(queue, options, bound.Token);
    }

    private static async Task DeclareJobsQueueAsync(string queue, RabbitMqOptions options, CancellationToken bound)
    {
        await using var connection = await options.ConnectAsync("jobworker-jobs-queue-declare", bound);
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: bound))
        {
            await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: bound);
        }

        try
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: bound);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { [RabbitMQ.Client.Headers.XMaxPriority] = (int)JobQueuePriority.MaxPriority }, cancellationToken: bound);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
        {
            // It exists, declared otherwise (before priorities, or as a quorum queue): it is used as it is.
        }

        await using (var channel = await connection.CreateChannelAsync(cancellationToken: bound))
        {
            await channel.QueueBindAsync(queue, queue, "", cancellationToken: bound);
        }

        await connection.CloseAsync(TimeSpan.FromSeconds(1));
    }

    /// <summary>Sets the message's AMQP priority, which a RabbitMQ priority queue orders by (it never reads the body).</summary>
    public static void Priority(SendContext context, int priority)
    {
        if (priority > 0)
        {
            context.TrySetPriority((byte)Math.Clamp(priority, 0, JobQueuePriority.MaxPriority));
        }
    }

    /// <summary>Asks RabbitMQ to return a message no queue takes; MassTransit then fails the send.</summary>
    public static void Mandatory(SendContext context)
    {
        if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
        {
            rabbit.Mandatory = true;
        }
    }
}
