using JobWorker.Jobs;
using JobWorker.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>
/// The drain on SIGTERM, before any service stops: stop consuming, give running handlers <c>Jobs:DrainTimeout</c>,
/// stop and release the rest to Pending (their attempt not used up), send their SubmitJob, and publish the events
/// recorded so far. Whatever a step cannot finish in time stays in the ledger, where another replica's dispatcher,
/// recovery or relay picks it up.
/// </summary>
internal sealed partial class WorkerShutdown(
    ConsumptionControl consumption, JobProcessor processor, JobDispatcher dispatcher, JobEventRelay relay,
    IOptions<JobOptions> options, ILogger<WorkerShutdown> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        using var consumptionStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        consumptionStop.CancelAfter(StepTimeout + TimeSpan.FromSeconds(30));
        await consumption.StopForShutdownAsync(consumptionStop.Token);

        var stopped = await processor.DrainAsync(options.Value.DrainTimeout, cancellationToken);
        var sent = 0;
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(StepTimeout);
            sent = await dispatcher.DispatchDueAsync(bound.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogSendFailed(logger, Resilience.DatabaseErrors.Describe(e));
        }

        var flushed = await relay.FlushAsync(StepTimeout, cancellationToken);
        LogDrained(logger, stopped, sent, flushed ? "all published" : $"{relay.Pending} left to other replicas' relays");
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained: {Stopped} jobs stopped and released to Pending, {Sent} due jobs sent to the queue, events {Events}")]
    private static partial void LogDrained(ILogger logger, int stopped, int sent, string events);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain: could not send the released jobs ({Reason}); another replica's dispatcher sends them")]
    private static partial void LogSendFailed(ILogger logger, string reason);
}
