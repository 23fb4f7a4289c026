using System.Collections.Concurrent;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Client;

/// <summary>
/// How a SubmitJob reaches a deployment's jobs queue: the one copy of it, used by <see cref="IJobClient"/> and by the
/// worker's dispatcher, command line and bench.
/// </summary>
internal static class JobsQueue
{
    /// <summary>The queue's <c>x-max-priority</c> and the highest job priority.</summary>
    public const byte MaxPriority = 9;

    /// <summary>
    /// The declares of the jobs queues this process sends to (see <see cref="SendAddressAsync"/>), by broker and name:
    /// one at a time per queue, however many sends want it at once; one that failed is dropped so a later send tries again.
    /// </summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task>> Declared = new();

    /// <summary>
    /// Where a SubmitJob to jobs queue <paramref name="queue"/> goes: always its exchange, which the workers' endpoint
    /// binds to the queue. A classic jobs queue is a priority queue, and a send to <c>queue:</c> would declare it without
    /// <c>x-max-priority</c>, which RabbitMQ refuses for a queue that has it. So for a classic queue the exchange, the
    /// queue (with <c>x-max-priority</c>, or as it already is) and their binding are declared here, once per process, and
    /// a submission sent before any worker ran still waits in the queue. A quorum queue is declared by the workers only.
    /// </summary>
    public static Task<Uri> SendAddressAsync(string queue, JobsQueueBroker broker, CancellationToken cancellationToken) =>
        SendAddressCoreAsync(queue, broker, (q, ct) => DeclareAsync(q, broker, ct), cancellationToken);

    /// <summary>
    /// <see cref="SendAddressAsync"/> with the declare given. The declare runs on its own bound
    /// (<see cref="JobsQueueBroker.DeclareBound"/>), not the first caller's, so one caller giving up fails no other; each
    /// caller waits no longer than its own token.
    /// </summary>
    internal static async Task<Uri> SendAddressCoreAsync(
        string queue, JobsQueueBroker broker, Func<string, CancellationToken, Task> declare, CancellationToken cancellationToken)
    {
        if (broker.Classic)
        {
            var key = $"{broker.Key}/{queue}";
            var declaring = Declared.GetOrAdd(key, _ => new Lazy<Task>(() => DeclareOnceAsync(queue, broker.DeclareBound, declare)));
            try
            {
                await declaring.Value.WaitAsync(cancellationToken);
            }
            catch when (declaring.Value.IsFaulted || declaring.Value.IsCanceled)
            {
                Declared.TryRemove(new KeyValuePair<string, Lazy<Task>>(key, declaring));
                throw;
            }
        }

        return new Uri($"exchange:{queue}");
    }

    private static async Task DeclareOnceAsync(string queue, TimeSpan bound, Func<string, CancellationToken, Task> declare)
    {
        using var timeout = new CancellationTokenSource(bound);
        await declare(queue, timeout.Token);
    }

    private static async Task DeclareAsync(string queue, JobsQueueBroker broker, CancellationToken bound)
    {
        await using var connection = await broker.ConnectAsync("jobworker-jobs-queue-declare", bound);
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: bound))
        {
            await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: bound);
        }

        try
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: bound);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { [RabbitMQ.Client.Headers.XMaxPriority] = (int)MaxPriority }, cancellationToken: bound);
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
            context.TrySetPriority((byte)Math.Clamp(priority, 0, MaxPriority));
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
