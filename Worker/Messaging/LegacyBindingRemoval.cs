using JobWorker.Contracts;
using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Messaging;

/// <summary>
/// Removes what earlier versions left on the broker: this deployment's exchanges bound to MassTransit's broker-wide
/// message-type exchanges (<c>JobWorker.Contracts:SubmitJob</c> to <c>&lt;QueueName&gt;</c>, <c>:GetJobStatus</c> to
/// <c>&lt;QueueName&gt;-status</c>, <c>:CancelJob</c> to <c>&lt;QueueName&gt;-cancel</c>). MassTransit only ever adds
/// bindings; left in place, they would keep delivering anyone's broker-wide publish, another deployment's CancelJob
/// included, to this deployment. Only bindings go: the queues and the messages in them stay.
/// </summary>
/// <remarks>
/// Runs once at each start, retried until the broker answers. Unbinding what is not bound is a no-op, so a worker that
/// never ran an earlier version pays one round trip per binding.
/// </remarks>
internal sealed partial class LegacyBindingRemoval(
    IOptions<RabbitMqOptions> rabbit, IOptions<JobOptions> jobs, ILogger<LegacyBindingRemoval> logger) : BackgroundService
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>Each broker-wide exchange an earlier version bound, and this deployment's exchange it was bound to.</summary>
    internal static IReadOnlyList<(string Source, string Destination)> Bindings(JobOptions options)
    {
        // MassTransit's default names for RabbitMQ, the ones earlier versions published to and bound.
        var brokerWide = RabbitMqBusFactory.CreateMessageTopology().EntityNameFormatter;
        return
        [
            (brokerWide.FormatEntityName<SubmitJob>(), QueueNames.Jobs(options)),
            (brokerWide.FormatEntityName<GetJobStatus>(), QueueNames.Status(options)),
            (brokerWide.FormatEntityName<CancelJob>(), QueueNames.Cancel(options)),
        ];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await RemoveAsync(stoppingToken);
                LogRemoved(logger, jobs.Value.QueueName);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (BrokerErrors.IsUnreachable(e))
                {
                    // The broker unreachable, said in one line: the stack adds nothing, and BusStarter then reports the wait every few seconds.
                    LogFailedUnreachable(logger, jobs.Value.QueueName, BrokerErrors.Reason(e), RetryAfter);
                }
                else
                {
                    LogFailed(logger, e, jobs.Value.QueueName, RetryAfter);
                }
            }

            await Task.Delay(RetryAfter, stoppingToken);
        }
    }

    private async Task RemoveAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(AttemptTimeout);
        await using var connection = await rabbit.Value.ConnectAsync("jobworker-topology", bound.Token);
        foreach (var (source, destination) in Bindings(jobs.Value))
        {
            // A channel per unbind: an exchange that does not exist closes the channel it was named on.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: bound.Token);
            try
            {
                await channel.ExchangeUnbindAsync(destination, source, routingKey: "", cancellationToken: bound.Token);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
                // Either exchange is absent: nothing was ever bound.
            }
        }

        await connection.CloseAsync(TimeSpan.FromSeconds(1));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "No broker-wide exchange of an earlier version is bound to queue {Queue}'s exchanges any more")]
    private static partial void LogRemoved(ILogger logger, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the earlier versions' broker-wide bindings to queue {Queue}'s exchanges; trying again in {RetryAfter}. Until then, broker-wide publishes of SubmitJob, GetJobStatus and CancelJob (an older publisher's) still reach this deployment")]
    private static partial void LogFailed(ILogger logger, Exception exception, string queue, TimeSpan retryAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the earlier versions' broker-wide bindings to queue {Queue}'s exchanges, RabbitMQ is unreachable ({Reason}); trying again in {RetryAfter}")]
    private static partial void LogFailedUnreachable(ILogger logger, string queue, string reason, TimeSpan retryAfter);
}
