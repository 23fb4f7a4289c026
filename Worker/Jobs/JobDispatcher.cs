using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>
/// Keeps the ledger moving, on every replica, with no leader: each tick (<c>Dispatch:Interval</c>) takes back Running
/// jobs whose lease lapsed (recovery), sends a SubmitJob for each Pending job that is due and has no message queued
/// (scheduled jobs, retries after their backoff, recovered and released jobs), and re-publishes events nobody
/// confirmed. Each step is one short statement that skips rows another replica holds (<c>FOR UPDATE SKIP LOCKED</c>).
/// </summary>
/// <remarks>
/// Promise: after any single fault, every non-terminal job is, within <c>Jobs:LeaseDuration</c> plus one tick,
/// running on a live replica, due later, or terminal.
/// </remarks>
internal sealed partial class JobDispatcher(
    JobStore store, IJobBroker broker, JobEventRelay relay, IOptions<DispatchOptions> options, IOptions<JobOptions> jobs,
    ILogger<JobDispatcher> logger) : BackgroundService
{
    private long _lastTick;
    private int _failedTicks;

    /// <summary>Time since the last tick that completed every step; null before the first.</summary>
    public TimeSpan? SinceLastTick
    {
        get
        {
            var at = Interlocked.Read(ref _lastTick);
            return at == 0 ? null : Stopwatch.GetElapsedTime(at);
        }
    }

    /// <summary>How long a tick may take, however the database or broker behaves.</summary>
    public TimeSpan TickBound => TimeSpan.FromTicks(Math.Max(options.Value.Interval.Ticks * 10, TimeSpan.FromSeconds(30).Ticks));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval);
        do
        {
            await TickAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One tick: recover, dispatch, sweep. Failures are logged and the next tick tries again.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(TickBound);
        try
        {
            await RecoverAsync(bound.Token);
            await DispatchDueAsync(bound.Token);
            await relay.SweepAsync(bound.Token);
            Interlocked.Exchange(ref _lastTick, Stopwatch.GetTimestamp());
            if (Interlocked.Exchange(ref _failedTicks, 0) > 0)
            {
                LogTickRecovered(logger);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var failures = Interlocked.Increment(ref _failedTicks);
            if (failures == 1 || failures % 30 == 0)
            {
                LogTickFailed(logger, failures, Resilience.DatabaseErrors.Describe(e));
            }
        }
    }

    /// <summary>Sends every due job that has no message queued; returns how many were sent.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var sent = 0;
        List<Job> due;
        do
        {
            due = await store.TakeDueAsync(jobs.Value.QueueName, settings.BatchSize, settings.RedispatchAfter, cancellationToken);
            if (due.Count == 0)
            {
                break;
            }

            try
            {
                await broker.SendAsync(due, cancellationToken);
                sent += due.Count;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogSendFailed(logger, due.Count, e.Message);
                await store.UndispatchAsync([.. due.Select(j => j.Id)], cancellationToken);
                throw;
            }
        }
        while (due.Count == settings.BatchSize);

        if (sent > 0)
        {
            LogDispatched(logger, sent);
        }

        return sent;
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        List<OutboxEvent> recovered;
        do
        {
            recovered = await store.RecoverLapsedAsync(settings.BatchSize, cancellationToken);
            foreach (var recorded in recovered)
            {
                LogRecovered(logger, recorded.JobId, recorded.Attempt,
                    recorded.WillRetry ? "Pending, to run again" : recorded.Kind == nameof(JobEventKind.Cancelled) ? "Cancelled, as requested" : "Failed, no attempt left",
                    jobs.Value.LeaseDuration);
                relay.Enqueue(recorded);
            }
        }
        while (recovered.Count == settings.BatchSize);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the lease of attempt {Attempt} lapsed (no renewal for {Lease}); recovered to {Outcome}")]
    private static partial void LogRecovered(ILogger logger, Guid jobId, int attempt, string outcome, TimeSpan lease);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dispatched {Count} due jobs")]
    private static partial void LogDispatched(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send {Count} due jobs ({Reason}); they are sent again at a later tick")]
    private static partial void LogSendFailed(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dispatcher tick failed ({Failures} in a row): {Reason}")]
    private static partial void LogTickFailed(ILogger logger, int failures, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dispatcher ticks complete again")]
    private static partial void LogTickRecovered(ILogger logger);
}
