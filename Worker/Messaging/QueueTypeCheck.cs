using JobWorker.Jobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Messaging;

/// <summary>
/// Before the bus starts, checks that the deployment's existing durable queues have the type <c>RabbitMq:QueueType</c>
/// asks for, and stops the worker with a message naming the queue, its type and the setting when one does not.
/// RabbitMQ fixes a queue's type when it is declared: left to MassTransit, the mismatch would fault the endpoint over and
/// over with a bare PRECONDITION_FAILED.
/// </summary>
/// <remarks>
/// Each existing queue is declared again with the wanted arguments, which changes nothing when they match. A queue that
/// does not exist yet is left for MassTransit to declare. A broker that does not answer is not this check's failure: the
/// bus then connects when it can, as it always has.
/// </remarks>
internal sealed partial class QueueTypeCheck(IOptions<RabbitMqOptions> rabbit, IOptions<JobOptions> jobs, ILogger<QueueTypeCheck> logger)
    : IHostedService
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The queues whose type follows the setting: jobs, cancels and status requests, and their error and skipped queues.</summary>
    public static IReadOnlyList<string> Queues(JobOptions options) =>
    [
        .. from queue in new[] { QueueNames.Jobs(options), QueueNames.Cancel(options), QueueNames.Status(options) }
           from suffix in new[] { "", "_error", "_skipped" }
           select queue + suffix,
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> conflicts;
        try
        {
            conflicts = await FindConflictsAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            if (BrokerErrors.IsUnreachable(e))
            {
                // The broker unreachable, said in one line: the stack adds nothing, and BusStarter then reports the wait every few seconds.
                LogUncheckedUnreachable(logger, BrokerErrors.Reason(e));
            }
            else
            {
                LogUnchecked(logger, e);
            }

            return;
        }

        if (conflicts.Count > 0)
        {
            var wanted = rabbit.Value.QueueType.ToString().ToLowerInvariant();
            var existing = rabbit.Value.QueueType == RabbitMqQueueType.Quorum ? "classic" : "quorum";
            var message = $"RabbitMq:QueueType is {wanted}, but queue(s) {string.Join(", ", conflicts)} already exist as {existing} queues, "
                + "and RabbitMQ cannot change a queue's type. Set RabbitMq:QueueType back to "
                + $"{existing}, or move the queues to {wanted} first without losing messages as the README's "
                + "\"Moving to quorum queues\" section describes.";
            LogConflict(logger, message);
            throw new QueueTypeConflictException(message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The existing queues whose type differs from the setting.</summary>
    internal async Task<IReadOnlyList<string>> FindConflictsAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(CheckTimeout);
        Dictionary<string, object?> arguments = rabbit.Value.QueueType == RabbitMqQueueType.Quorum
            ? new() { [Headers.XQueueType] = "quorum" }
            : [];
        var conflicts = new List<string>();
        await using var connection = await rabbit.Value.ConnectAsync("jobworker-queue-type-check", bound.Token);
        foreach (var queue in Queues(jobs.Value))
        {
            // A refused declare closes its channel: one channel per question.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: bound.Token);
            try
            {
                await channel.QueueDeclarePassiveAsync(queue, bound.Token);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
                continue;
            }

            // A classic jobs queue may or may not be a priority queue (JobQueuePriority), which is no type conflict: a
            // refusal over x-max-priority is asked again with the other choice of it.
            Dictionary<string, object?> withPriority = new(arguments) { [Headers.XMaxPriority] = (int)JobQueuePriority.MaxPriority };
            foreach (var candidate in new[] { arguments, withPriority })
            {
                await using var redeclare = await connection.CreateChannelAsync(cancellationToken: bound.Token);
                try
                {
                    await redeclare.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, candidate, cancellationToken: bound.Token);
                    break;
                }
                catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406
                    && e.ShutdownReason.ReplyText.Contains(Headers.XQueueType, StringComparison.Ordinal))
                {
                    conflicts.Add(queue);
                    break;
                }
                catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406
                    && e.ShutdownReason.ReplyText.Contains(Headers.XMaxPriority, StringComparison.Ordinal))
                {
                }
            }
        }

        await connection.CloseAsync(TimeSpan.FromSeconds(1));
        return conflicts;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Problem}")]
    private static partial void LogConflict(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check the queues' type against RabbitMq:QueueType before the bus starts; the bus connects when the broker answers")]
    private static partial void LogUnchecked(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check the queues' type against RabbitMq:QueueType before the bus starts, RabbitMQ is unreachable ({Reason}); the bus connects when the broker answers")]
    private static partial void LogUncheckedUnreachable(ILogger logger, string reason);
}
