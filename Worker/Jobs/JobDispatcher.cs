using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Sends a SubmitJob for each of this queue's Pending jobs that is due and has no message queued (scheduled jobs, retries
/// after their backoff, rescued and released jobs), as River's scheduler makes due jobs available. The message names the
/// job, never carries its payload: the replica that takes it claims the job from the ledger and runs the ledger's payload.
/// Each job is sent on its own, so one that cannot be sent is marked unsent and tried again at a later tick without
/// holding up the rest. Leaderless: each batch is one statement that skips rows another replica is dispatching. Each tick
/// first checks the jobs the client's transactional enqueue wrote (<see cref="EnqueuedJobAcceptor"/>): the take never sends
/// one before, so one that passes goes in the same tick, and one that fails ends Failed and is never sent.
/// </summary>
internal sealed partial class JobDispatcher(
    JobStore store, IJobBroker broker, IOptions<DispatchOptions> options, IOptions<JobOptions> jobs, ILogger<JobDispatcher> logger,
    IOptions<JobLimitsOptions> limits, DutyWake wake, EnqueuedJobAcceptor acceptor)
    : MaintenanceService(logger)
{
    /// <summary>How long un-marking the jobs a send did not confirm may take, apart from the caller's own bound.</summary>
    private static readonly TimeSpan UnmarkBound = TimeSpan.FromSeconds(10);

    public override string Name => "dispatcher";

    public override TimeSpan Interval => options.Value.Interval;

    /// <summary>Woken when a limited type's place frees in this replica, so its next held job is sent at once.</summary>
    protected override DutyWake? Wakes => wake;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken) => await DispatchDueAsync(cancellationToken);

    /// <summary>
    /// Sends every due job that has no message queued; returns how many were sent. Throws only when nothing of a batch
    /// could be sent (the broker is away): the duty then reports failing, and the batch is marked unsent. With
    /// <paramref name="checkEnqueued"/> false (a stopping replica sending the jobs it released), the jobs enqueued in a
    /// transaction are left to the next tick of a replica that goes on.
    /// </summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken, bool checkEnqueued = true)
    {
        var settings = options.Value;
        var rules = limits.Value;
        var sent = 0;

        // Jobs enqueued in a transaction since the last tick are checked before the take, so they go in this one. The
        // step has a bound of its own, a third of the tick's, so a slow check leaves the sends their time. A failed or
        // timed-out check step keeps nothing else from going (those jobs just wait, unsent); the tick still fails.
        ExceptionDispatchInfo? acceptFailure = null;
        if (checkEnqueued)
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(TickBound / 3);
            try
            {
                await acceptor.AcceptAsync(bound.Token);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                acceptFailure = ExceptionDispatchInfo.Capture(e is OperationCanceledException
                    ? new TimeoutException($"Checking the jobs enqueued in a transaction took longer than its bound ({TickBound / 3:c}); the rest wait for the next tick", e)
                    : e);
            }
        }

        // Limited types first: each take is bounded by its room, so it costs the tick little, while behind a large
        // ordinary backlog it would wait for every full batch of it. No more than their limits have room for now, or the
        // rest would only be held by their claims and bounce between the queue and the ledger. A place that frees wakes
        // this duty (see JobProcessor).
        // A limited batch that could not be sent at all does not keep the ordinary jobs from going; the tick still fails.
        ExceptionDispatchInfo? limitedFailure = null;
        foreach (var rule in rules.Rules.Values)
        {
            try
            {
                sent += await SendAsync(await store.TakeLimitedAsync(jobs.Value.QueueName, rule, settings.BatchSize, settings.RedispatchAfter, cancellationToken), cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                limitedFailure ??= ExceptionDispatchInfo.Capture(e);
            }
        }

        List<DueJob> due;
        do
        {
            due = await store.TakeDueAsync(jobs.Value.QueueName, settings.BatchSize, settings.RedispatchAfter, cancellationToken, rules.LimitedTypes);
            sent += await SendAsync(due, cancellationToken);
        }
        while (due.Count == settings.BatchSize && !cancellationToken.IsCancellationRequested);

        acceptFailure?.Throw();
        limitedFailure?.Throw();

        if (sent > 0)
        {
            LogDispatched(logger, sent);
        }

        return sent;
    }

    /// <summary>Sends each job of a taken batch; returns how many were sent. What was not sent is marked unsent.</summary>
    private async Task<int> SendAsync(List<DueJob> due, CancellationToken cancellationToken)
    {
        if (due.Count == 0)
        {
            return 0;
        }

        // Highest priority first: each priority's sends are confirmed before the next lower one's start, so a queue
        // without priorities of its own (quorum, or one declared before them) still receives them in that order.
        // Within a priority they go at once. (A statement's RETURNING has no order of its own.)
        due = [.. due.OrderByDescending(job => job.Priority)];
        var results = new List<string?>(due.Count);
        foreach (var band in due.GroupBy(job => job.Priority))
        {
            results.AddRange(await Task.WhenAll(band.Select(job => TrySendAsync(job, cancellationToken))));
        }

        var unsent = due.Where((_, i) => results[i] is not null).ToList();
        if (unsent.Count > 0)
        {
            await UnmarkAsync(unsent);
            cancellationToken.ThrowIfCancellationRequested();
            var reason = results.First(r => r is not null)!;
            if (unsent.Count == due.Count)
            {
                throw new InvalidOperationException($"Could not send any of {due.Count} due jobs: {reason}");
            }

            LogSomeUnsent(logger, unsent.Count, due.Count, reason);
        }

        return due.Count - unsent.Count;
    }

    /// <summary>Null when the broker confirmed the message; else why not. A cancelled send counts as unsent.</summary>
    private async Task<string?> TrySendAsync(DueJob job, CancellationToken cancellationToken)
    {
        try
        {
            await broker.SendAsync(job, cancellationToken);
            return null;
        }
        catch (Exception e)
        {
            return cancellationToken.IsCancellationRequested ? "the dispatch was cancelled" : e.Message;
        }
    }

    /// <summary>Un-marks what was not sent, on a bound of its own: a dispatch cut short by its caller's bound still leaves no job marked sent without a message.</summary>
    private async Task UnmarkAsync(List<DueJob> unsent)
    {
        using var bound = new CancellationTokenSource(UnmarkBound);
        try
        {
            await store.UndispatchAsync([.. unsent.Select(j => j.Id)], bound.Token);
        }
        catch (Exception e)
        {
            // They are sent again after Dispatch:RedispatchAfter.
            LogUnmarkFailed(logger, unsent.Count, Resilience.DatabaseErrors.Describe(e), options.Value.RedispatchAfter);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dispatched {Count} due jobs")]
    private static partial void LogDispatched(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send {Unsent} of {Due} due jobs ({Reason}); each is tried again at a later tick")]
    private static partial void LogSomeUnsent(ILogger logger, int unsent, int due, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark {Count} unsent jobs as unsent ({Reason}); they are sent again after {RedispatchAfter}")]
    private static partial void LogUnmarkFailed(ILogger logger, int count, string reason, TimeSpan redispatchAfter);
}
