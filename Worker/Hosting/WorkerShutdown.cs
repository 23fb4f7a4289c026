using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Resilience;
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
    ConsumptionControl consumption, JobProcessor processor, JobDispatcher dispatcher, JobEventRelay relay, IJobBroker broker,
    IOptions<JobOptions> options, IOptions<ResilienceOptions> resilience, ILogger<WorkerShutdown> logger) : IHostedLifecycleService
{
    /// <summary>Room for the database statements around a step's broker calls.</summary>
    private static readonly TimeSpan DatabaseMargin = TimeSpan.FromSeconds(10);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Each step has a bound longer than what it waits on, and a step that fails or runs out of time never skips the next.
        // MassTransit stops an endpoint within its ConsumerStopTimeout and StopTimeout (MessagingHostBuilderExtensions).
        await StepAsync("stop consuming", TimeSpan.FromSeconds(40), consumption.StopForShutdownAsync, cancellationToken);

        var stopped = 0;
        await StepAsync("drain the slots", options.Value.DrainTimeout + resilience.Value.OutcomeGracePeriod + DatabaseMargin,
            async ct => stopped = await processor.DrainAsync(options.Value.DrainTimeout, ct), cancellationToken);

        // The released jobs' SubmitJob: each send is bounded by the broker's call bound; what is not sent is un-marked, so
        // another replica's dispatcher sends it at its next tick rather than after Dispatch:RedispatchAfter.
        var sent = 0;
        await StepAsync("send the released jobs", broker.CallBound + DatabaseMargin,
            async ct => sent = await dispatcher.DispatchDueAsync(ct, checkEnqueued: false), cancellationToken);

        var flushed = false;
        await StepAsync("publish the recorded events", broker.CallBound + DatabaseMargin,
            async ct => flushed = await relay.FlushAsync(broker.CallBound + DatabaseMargin / 2, ct), cancellationToken);
        LogDrained(logger, stopped, sent, flushed ? "all published" : $"{relay.Pending} left to other replicas' relays");
    }

    private Task StepAsync(string step, TimeSpan bound, Func<CancellationToken, Task> run, CancellationToken cancellationToken) =>
        RunStepAsync(step, bound, run, logger, cancellationToken);

    /// <summary>
    /// Runs one drain step within <paramref name="bound"/>; a step that throws or runs out of time is logged, and the
    /// caller goes on with the next. Only the host's own cancellation ends the drain.
    /// </summary>
    internal static async Task RunStepAsync(string step, TimeSpan bound, Func<CancellationToken, Task> run, ILogger logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(bound);
        try
        {
            await run(timeout.Token).WaitAsync(timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // What the step could not finish stays in the ledger: another replica's dispatcher, rescuer or relay picks it up.
            LogStepFailed(logger, step, e is OperationCanceledException ? $"not done within {bound}" : Resilience.DatabaseErrors.Describe(e));
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained: {Stopped} jobs stopped and released to Pending, {Sent} due jobs sent to the queue, events {Events}")]
    private static partial void LogDrained(ILogger logger, int stopped, int sent, string events);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain: could not {Step} ({Reason}); going on with the next step, and other replicas pick up what is left")]
    private static partial void LogStepFailed(ILogger logger, string step, string reason);
}
