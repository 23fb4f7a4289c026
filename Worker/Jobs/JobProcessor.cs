using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using JobWorker.Resilience;
using Polly.CircuitBreaker;
using JobWorker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>
/// Runs jobs in this replica, River's executor: wait for a slot, claim (Running, attempt + 1), run the handler in the
/// slot, and hand how it ended to <see cref="JobLifecycle"/>, whose outcome <see cref="JobCompleter"/> writes. Every step is
/// one short transition; no connection is held while a handler runs or a delivery waits.
/// </summary>
/// <remarks>
/// <see cref="TakeAsync"/> and <see cref="TakeDispatchedAsync"/> return as soon as the job is claimed (or needs nothing more
/// from this delivery), so the delivery can be acknowledged: from then on the job's progress lives in the ledger and in
/// the slot, not in the broker. A broker restart, a channel closure or RabbitMQ's consumer_timeout never touches a
/// running handler.
/// </remarks>
internal sealed partial class JobProcessor(
    JobStore store,
    JobCompleter completer,
    JobLifecycle lifecycle,
    JobSlots slots,
    JobRunner runner,
    JobHandlerCatalog handlers,
    JobEventRelay relay,
    ProgressWriter progress,
    WorkerIdentity worker,
    IServiceScopeFactory scopes,
    IOptions<JobOptions> options,
    IOptions<SubmissionOptions> submissions,
    IOptions<ResilienceOptions> resilience,
    ILogger<JobProcessor> logger,
    IOptions<JobLimitsOptions> limits,
    DutyWake dispatcherWake)
{
    /// <summary>How long resolving a lost claim may take once its delivery is cancelled (the endpoint is stopping).</summary>
    private static readonly TimeSpan ResolveWhileStoppingBound = TimeSpan.FromSeconds(5);

    /// <summary>How long writing a job's last progress may hold up its outcome.</summary>
    internal static readonly TimeSpan ProgressFlushBound = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _stopped = new();

    private TimeSpan Lease => options.Value.LeaseDuration;

    /// <summary>How long resolving a claim whose reply was lost, or writing an outcome, may take: a lease and the grace period.</summary>
    private TimeSpan WriteBound => options.Value.LeaseDuration + resilience.Value.OutcomeGracePeriod;

    /// <summary>
    /// A new submission: rejected when it can never run, else accepted; when it is due, it waits for a slot, is claimed
    /// and its handler starts. <paramref name="problem"/> is what the caller found wrong with the message itself. The
    /// payload limit and the other checks apply here, once, on the payload as it will be stored.
    /// </summary>
    public async Task<JobIntake> TakeAsync(NewJob job, JsonElement payload, string? problem, CancellationToken cancellationToken)
    {
        problem ??= AcceptChecks.Problem(job, submissions.Value, handlers, DateTime.UtcNow);
        if (problem is null)
        {
            try
            {
                return job.IsContinuation ? await AcceptAwaitingAsync(job, cancellationToken)
                    : job is { RunAt: null, Delay: null } && limits.Value.For(job.Type) is null ? await AcceptDueAsync(job, payload, cancellationToken)
                    : await AcceptLaterAsync(job, cancellationToken);
            }
            catch (Exception e) when (DatabaseErrors.IsRowFault(e))
            {
                problem = $"The database refused the job: {DatabaseErrors.Describe(e)}";
            }
        }

        return await RejectAsync(job, problem, cancellationToken);
    }

    /// <summary>
    /// A job a dispatcher sent: already accepted, so it is never checked again as a submission. It is claimed from the
    /// ledger and runs the ledger's payload. A job that cannot be claimed for a reason of its own is set aside (Failed
    /// with the reason); one whose type this replica does not handle is left Pending for a replica that does.
    /// </summary>
    public async Task<JobIntake> TakeDispatchedAsync(Guid jobId, string jobType, int priority, CancellationToken cancellationToken)
    {
        if (!handlers.Handles(jobType))
        {
            var reason = $"this replica has no handler for job type '{jobType}'; it stays Pending for a replica that has one " +
                "(sent again after Dispatch:RedispatchAfter)";
            LogNotClaimed(logger, jobId, reason);
            return JobIntake.NotClaimable(reason);
        }

        var slot = await slots.TakeAsync(priority, cancellationToken);
        var rule = limits.Value.For(jobType);
        Job? claimed;
        LimitedClaim? limited = null;
        try
        {
            claimed = rule is null
                ? await ClaimAsync(jobId, token => store.ClaimAsync(jobId, worker.Id, token, Lease, cancellationToken), cancellationToken)
                : await ClaimAsync(jobId, async token =>
                {
                    limited = await store.ClaimLimitedAsync(jobId, rule, worker.Id, token, Lease, cancellationToken);
                    return limited.Claimed;
                }, cancellationToken);
        }
        catch (Exception e) when (DatabaseErrors.IsRowFault(e))
        {
            slot.Dispose();
            return await SetAsideAsync(jobId, $"The job could not be claimed: {DatabaseErrors.Describe(e)}", cancellationToken);
        }
        catch
        {
            slot.Dispose();
            throw;
        }

        if (claimed is null)
        {
            slot.Dispose();
            return limited is { Limit: { } limit, Row: { } held } ? Held(held, rule!, limit) : await DescribeUnclaimableAsync(jobId, cancellationToken);
        }

        return Start(slot, claimed, payload: null);
    }

    /// <summary>A job its type's limit refused: it waits in the ledger, unsent and holding nothing, for the dispatcher to send it when there is room.</summary>
    private JobIntake Held(Job job, LimitRule rule, string limit)
    {
        JobWorkerTelemetry.JobsHeld.Add(1, JobWorkerTelemetry.JobType(job.Type), new("jobworker.limit", limit));
        var reason = limit switch
        {
            "Concurrency" => $"{rule.Concurrency} jobs of type '{job.Type}' run already (Limits:{job.Type}:Concurrency)",
            "PerKeyConcurrency" => $"{rule.PerKeyConcurrency} jobs of type '{job.Type}' with its concurrency key run already (Limits:{job.Type}:PerKeyConcurrency)",
            _ => $"type '{job.Type}' started {rule.Rate} already (Limits:{job.Type}:Rate); it is due again at {job.RunAt:O}",
        };
        LogHeld(logger, job.Id, reason);
        return JobIntake.Held(reason);
    }

    /// <summary>
    /// A CancelJob: records it in the ledger (a Pending or unknown job ends Cancelled at once; a Running one gets the
    /// request) and stops the handler if the job runs here. Its owner elsewhere sees the request at its next lease
    /// renewal; if the owner is dead, recovery ends the job Cancelled.
    /// </summary>
    public async Task<JobState?> CancelAsync(Guid jobId, string reason, CancellationToken cancellationToken)
    {
        var state = await store.RequestCancelAsync(jobId, reason, options.Value.QueueName, cancellationToken);
        if (state == JobState.Running)
        {
            StopIfRunningHere(jobId, reason);
        }
        else if (state == JobState.Cancelled)
        {
            JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsCancelled, "unknown");
            LogCancelledBeforeRun(logger, jobId, reason);
        }

        return state;
    }

    /// <summary>Stops the job's handler if it runs in this replica (a CancelJob's fast path); false when it does not.</summary>
    public bool StopIfRunningHere(Guid jobId, string reason)
    {
        if (!slots.TryCancel(jobId, reason))
        {
            return false;
        }

        LogCancelling(logger, jobId, reason);
        return true;
    }

    /// <summary>
    /// On shutdown: waits up to <paramref name="timeout"/> for running handlers, then stops the rest; each is released
    /// to Pending (its attempt not used up) once its handler returns. Returns how many had to be stopped.
    /// </summary>
    public async Task<int> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (await WaitForIdleAsync(timeout, cancellationToken))
        {
            return 0;
        }

        var stopped = 0;
        foreach (var job in slots.Running)
        {
            if (job.Stop(JobStop.Draining))
            {
                stopped++;
            }
        }

        LogDrainStopping(logger, stopped, timeout);
        var grace = resilience.Value.OutcomeGracePeriod;
        if (!await WaitForIdleAsync(grace, cancellationToken))
        {
            LogDrainAbandoned(logger, slots.Busy, grace);
            await _stopped.CancelAsync();
        }

        return stopped;
    }

    private async Task<bool> WaitForIdleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (slots.Busy > 0)
        {
            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken);
        }

        return true;
    }

    private async Task<JobIntake> AcceptDueAsync(NewJob job, JsonElement payload, CancellationToken cancellationToken)
    {
        // The common case, a job due now: it waits for a slot in the delivery (holding no connection), then is accepted
        // and claimed in one statement.
        var slot = await slots.TakeAsync(job.Priority, cancellationToken);
        Job? claimed;
        try
        {
            var accepted = false;
            claimed = await ClaimAsync(job.Id, async token =>
            {
                (accepted, var row) = await store.AcceptAndClaimAsync(job, worker.Id, token, Lease, cancellationToken);
                return row;
            }, cancellationToken);
            if (accepted)
            {
                JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(job.Type));
            }
        }
        catch
        {
            slot.Dispose();
            throw;
        }

        if (claimed is null)
        {
            slot.Dispose();
            return await DescribeUnclaimableAsync(job.Id, cancellationToken);
        }

        return Start(slot, claimed, payload);
    }

    private async Task<JobIntake> AcceptAwaitingAsync(NewJob job, CancellationToken cancellationToken)
    {
        // A continuation: recorded with its parents and held; the releaser makes it Pending once they finish, and the
        // dispatcher sends it then. A redelivery finds the row and only says why it does nothing.
        var held = await store.AcceptAwaitingAsync(job, cancellationToken);
        if (held is null)
        {
            return await DescribeUnclaimableAsync(job.Id, cancellationToken);
        }

        JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(job.Type));
        LogAwaiting(logger, job.Id, job.After!.Count, job.AfterAny ? "every parent has finished" : "every parent has Succeeded");

        // Parents that had all finished before the child arrived finish no more: the releaser's ticks, which follow parents
        // as they finish, would leave the child to the next sweep. Decided here instead, through the same fenced writer.
        if (JobLifecycle.Continue(held) is { } decided)
        {
            await completer.ApplyAsync(decided, cancellationToken);
        }

        return JobIntake.Awaiting;
    }

    private async Task<JobIntake> AcceptLaterAsync(NewJob job, CancellationToken cancellationToken)
    {
        // Scheduled: recorded first, so the ledger holds it (and the delivery can go) until it is due; the dispatcher sends it.
        var due = await store.AcceptAsync(job, cancellationToken);
        if (due is not null)
        {
            JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(job.Type));
        }

        if (due is false)
        {
            return JobIntake.Scheduled;
        }

        // Due already (a time in the past), or sent again: claimed from the ledger like a dispatched job.
        return await TakeDispatchedAsync(job.Id, job.Type, job.Priority, cancellationToken);
    }

    /// <summary>
    /// Runs a claim statement with a fresh claim token. A claim that fails after it may have committed (its reply lost,
    /// or the delivery cancelled mid-statement) is resolved by that token outside the delivery's cancellation: found and the
    /// delivery still live, it runs; found and the delivery cancelled, it is released without using the attempt (the
    /// message goes back to the queue and claims it again); not found, the claim's failure stands.
    /// </summary>
    private async Task<Job?> ClaimAsync(Guid jobId, Func<Guid, Task<Job?>> claim, CancellationToken delivery)
    {
        var token = Guid.NewGuid();
        try
        {
            return await claim(token);
        }
        catch (Exception e) when (!DatabaseErrors.IsRowFault(e) && ExceptionChain.Find<BrokenCircuitException>(e) is null)
        {
            // (An open circuit sent nothing: there is no claim to look for.)
            var failure = ExceptionDispatchInfo.Capture(e);
            Job? mine;
            try
            {
                // A cancelled delivery is a stopping endpoint: its look-up must not hold up the stop for long.
                using var bound = new CancellationTokenSource(delivery.IsCancellationRequested ? ResolveWhileStoppingBound : WriteBound);
                mine = await store.FindClaimAsync(jobId, token, Lease, bound.Token);
            }
            catch (Exception resolve)
            {
                // The claim, if it committed, lapses with its lease and recovery takes the job back.
                LogClaimUnresolved(logger, jobId, DatabaseErrors.Describe(resolve));
                failure.Throw();
                throw;
            }

            if (mine is null)
            {
                failure.Throw();
            }

            if (!delivery.IsCancellationRequested)
            {
                LogClaimResolved(logger, jobId, mine!.Attempt, "running it");
                return mine;
            }

            LogClaimResolved(logger, jobId, mine!.Attempt, "releasing it unused, since its delivery was cancelled");
            using (var bound = new CancellationTokenSource(WriteBound))
            {
                await completer.ApplyAsync(lifecycle.Release(mine, "the delivery that claimed it was cancelled"), bound.Token);
            }

            failure.Throw();
            throw;
        }
    }

    /// <param name="payload">The submission's payload; null to run the ledger's (a dispatched job's), read in the slot.</param>
    private JobIntake Start(JobSlots.Slot slot, Job claimed, JsonElement? payload)
    {
        slots.RecordProgress();
        JobWorkerTelemetry.JobsStarted.Add(1, JobWorkerTelemetry.JobType(claimed.Type));
        if (claimed.StartedAt is { } startedAt)
        {
            JobWorkerTelemetry.QueueWait.Record(Math.Max(0, (startedAt - claimed.RunAt).TotalSeconds), JobWorkerTelemetry.JobType(claimed.Type));
        }

        var started = OutboxEvent.For(claimed, JobEventKind.Started, claimed.StartedAt ?? DateTime.UtcNow);
        started.WorkerId = claimed.Owner;
        relay.Enqueue(started);

        _ = RunInSlotAsync(slot, slot.Run(claimed), payload);
        return JobIntake.Started;
    }

    private async Task RunInSlotAsync(JobSlots.Slot slot, RunningJob running, JsonElement? payload)
    {
        await Task.Yield(); // the delivery is acknowledged while the handler runs
        var claimed = running.Claimed;
        try
        {
            AttemptResult result;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var handler = handlers.Resolve(scope.ServiceProvider, claimed.Type)
                    ?? throw new InvalidOperationException(handlers.DescribeUnknown(claimed.Type));
                var input = payload ?? JsonDocument.Parse(claimed.Payload, new JsonDocumentOptions { MaxDepth = 1_000 }).RootElement;
                var run = new JobRun(claimed.Id, claimed.Type, input, claimed.Attempt, claimed.MaxAttempts, claimed.CorrelationId)
                {
                    Checkpoint = claimed.Checkpoint is null ? null : JsonDocument.Parse(claimed.Checkpoint).RootElement,
                    Sink = new JobRunSink(running, store, WriteBound),
                };
                result = await runner.RunAsync(handler, run, claimed.Timeout ?? submissions.Value.DefaultTimeout, running);
            }
            catch (Exception e)
            {
                // Whatever went wrong after the claim ends this attempt with the reason; the row is never left Running.
                LogRunFailed(logger, e, claimed.Id, claimed.Attempt);
                result = AttemptResult.Failed($"Worker error after the claim: {e.GetType().Name}: {e.Message}", retryable: true);
            }

            running.HandlerReturned = true;
            await FlushProgressAsync(running);
            await RecordAsync(lifecycle.AfterRun(claimed, result));
        }
        catch (Exception e)
        {
            // The database did not take the write within its bound: the lease lapses and recovery decides.
            LogOutcomeLost(logger, claimed.Id, claimed.Attempt, DatabaseErrors.Describe(e));
        }
        finally
        {
            slot.Dispose();
            if (limits.Value.For(claimed.Type) is not null)
            {
                // A place of a limited type is free: the dispatcher sends the next held job now, not at its next tick.
                dispatcherWake.Wake();
            }
        }
    }

    /// <summary>
    /// Writes the handler's last progress report before its outcome, which ends the fence it is written under. Bounded
    /// by <see cref="ProgressFlushBound"/>, however long a progress tick holds the writer or the database takes:
    /// progress is for people, and a failed write here never holds up or stops the outcome.
    /// </summary>
    private async Task FlushProgressAsync(RunningJob running)
    {
        if (running.UnwrittenProgress() is null)
        {
            return;
        }

        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(_stopped.Token);
            bound.CancelAfter(ProgressFlushBound);
            // WaitAsync too: the await ends on time even if the statement's cancellation is slow to come back.
            await progress.FlushAsync(running, bound.Token).WaitAsync(ProgressFlushBound + TimeSpan.FromMilliseconds(500));
        }
        catch (Exception e) when (_stopped.IsCancellationRequested || running.StopReason == JobStop.Draining)
        {
            // Stopping: the job's outcome matters, its last progress does not, and one warning per job would bury the drain's.
            LogProgressLostWhileStopping(logger, running.JobId, running.Claimed.Attempt, DatabaseErrors.Describe(e));
        }
        catch (Exception e)
        {
            LogProgressLost(logger, running.JobId, running.Claimed.Attempt, DatabaseErrors.Describe(e));
        }
    }

    /// <summary>
    /// Writes how the attempt ended. The write may keep trying through a database outage for one lease and the grace
    /// period; past that the lease has lapsed, the slot is freed, and recovery decides what happens to the job.
    /// </summary>
    private async Task RecordAsync(JobOutcome outcome)
    {
        using var recording = CancellationTokenSource.CreateLinkedTokenSource(_stopped.Token);
        recording.CancelAfter(WriteBound);
        var applied = await completer.ApplyAsync(outcome, recording.Token);
        slots.RecordProgress();
        if (applied is null)
        {
            LogOutcomeNotRecorded(logger, outcome.JobId, outcome.Attempt, outcome.Kind);
            return;
        }

        switch (outcome.Kind)
        {
            case JobOutcomeKind.Retry or JobOutcomeKind.Failed when applied.State is JobState.Pending or JobState.Failed:
                if (applied.State == JobState.Pending)
                {
                    LogAttemptFailed(logger, outcome.JobId, outcome.JobType, outcome.Attempt, outcome.RetryAfter, outcome.Error);
                }
                else
                {
                    LogJobFailed(logger, outcome.JobId, outcome.JobType, outcome.Attempt, outcome.Error);
                }
                break;
            case JobOutcomeKind.Released:
                LogReleased(logger, outcome.JobId, outcome.Attempt, outcome.Error, applied.State);
                break;
            case not JobOutcomeKind.Succeeded when applied.State == JobState.Cancelled:
                LogCancelled(logger, outcome.JobId, outcome.Attempt, applied.Event.Error);
                break;
        }
    }

    private async Task<JobIntake> RejectAsync(NewJob job, string problem, CancellationToken cancellationToken)
    {
        // Stored with no payload and no schedule (the payload may be the very thing that is wrong), then Failed: only a row
        // this message stored (still Pending at attempt 0), never a job that is further along under the same id, nor one
        // the client's transactional enqueue wrote, which a dispatcher's check decides by its own values.
        var stored = await store.AcceptAsync(job with { PayloadJson = "null", RunAt = null, Delay = null, After = null }, cancellationToken);
        if (stored is not null)
        {
            JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(job.Type));
        }

        var current = stored is null ? await store.LocateAsync(job.Id, cancellationToken) : null;
        LogRejected(logger, job.Id, problem);
        if (stored is not null || current is { State: JobState.Pending, Attempt: 0, Unchecked: false })
        {
            await completer.ApplyAsync(JobLifecycle.Reject(job.Id, job.Type, problem), cancellationToken);
        }

        return JobIntake.Rejected(problem);
    }

    private async Task<JobIntake> SetAsideAsync(Guid jobId, string reason, CancellationToken cancellationToken)
    {
        var current = await store.LocateAsync(jobId, cancellationToken);
        if (current is { State: JobState.Pending })
        {
            using var bound = new CancellationTokenSource(WriteBound);
            var applied = await completer.ApplyAsync(JobLifecycle.SetAside(current, reason), bound.Token);
            LogSetAside(logger, jobId, reason, applied is not null);
        }

        return JobIntake.SetAside(reason);
    }

    private async Task<JobIntake> DescribeUnclaimableAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var current = await store.LocateAsync(jobId, cancellationToken);
        var reason = current switch
        {
            null => "the job no longer exists",
            { State: JobState.Pending, Unchecked: true } =>
                "it was enqueued in a transaction and no worker's dispatcher has checked it yet; the dispatcher sends it once checked",
            { State: JobState.Pending } => $"it is not due until {current.RunAt:O}",
            { State: JobState.Awaiting } => "it is Awaiting its parent jobs (After); it becomes due once they finish",
            { State: JobState.Running } => $"worker {current.Owner} is running attempt {current.Attempt}",
            _ => $"it is already {current.State}",
        };
        LogNotClaimed(logger, jobId, reason);
        return JobIntake.NotClaimable(reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: delivery acknowledged without running the job, because {Reason}")]
    private static partial void LogNotClaimed(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} held in the ledger, unsent, because {Reason}")]
    private static partial void LogHeld(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} accepted as Awaiting {Parents} parent job(s); it runs once {Condition}")]
    private static partial void LogAwaiting(ILogger logger, Guid jobId, int parents, string condition);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, Guid jobId, string reason);

    // The generated formatter prints a null argument as "(null)", so the optional values are turned into words first.
    internal static void LogAttemptFailed(ILogger logger, Guid jobId, string jobType, int attempt, TimeSpan? retryAfter, string? error) =>
        LogAttemptFailedCore(logger, jobId, jobType, attempt, retryAfter?.ToString("c", System.Globalization.CultureInfo.InvariantCulture) ?? "none scheduled", JobLogText.Reason(error));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({JobType}) attempt {Attempt} failed (retry after: {RetryAfter}): {Error}")]
    private static partial void LogAttemptFailedCore(ILogger logger, Guid jobId, string jobType, int attempt, string retryAfter, string error);

    internal static void LogJobFailed(ILogger logger, Guid jobId, string jobType, int attempt, string? error) =>
        LogJobFailedCore(logger, jobId, jobType, attempt, JobLogText.Reason(error));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({JobType}) attempt {Attempt} failed and the job is Failed, no retry: {Error}")]
    private static partial void LogJobFailedCore(ILogger logger, Guid jobId, string jobType, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt}: could not record {Outcome}, the row had moved on (its lease lapsed or it was cancelled); left as it is")]
    private static partial void LogOutcomeNotRecorded(ILogger logger, Guid jobId, int attempt, JobOutcomeKind outcome);

    internal static void LogReleased(ILogger logger, Guid jobId, int attempt, string? why, JobState state) =>
        LogReleasedCore(logger, jobId, attempt, JobLogText.Reason(why), state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} released ({Why}); now {State}")]
    private static partial void LogReleasedCore(ILogger logger, Guid jobId, int attempt, string why, JobState state);

    internal static void LogCancelled(ILogger logger, Guid jobId, int attempt, string? reason) =>
        LogCancelledCore(logger, jobId, attempt, JobLogText.Reason(reason));

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} cancelled ({Reason})")]
    private static partial void LogCancelledCore(ILogger logger, Guid jobId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} set aside: {Reason} (Failed: {Applied})")]
    private static partial void LogSetAside(ILogger logger, Guid jobId, string reason, bool applied);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: a claim whose reply was lost committed as attempt {Attempt}; {Decision}")]
    private static partial void LogClaimResolved(ILogger logger, Guid jobId, int attempt, string decision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: could not learn whether a failed claim committed ({Reason}); if it did, its lease lapses and the rescuer takes it back")]
    private static partial void LogClaimUnresolved(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: cancelling its running handler ({Reason})")]
    private static partial void LogCancelling(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} cancelled before it ran ({Reason})")]
    private static partial void LogCancelledBeforeRun(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} attempt {Attempt}: the worker failed after the claim; ending the attempt")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, Guid jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} attempt {Attempt}: could not record the attempt's end ({Reason}); its lease will lapse and recovery takes the job back")]
    private static partial void LogOutcomeLost(ILogger logger, Guid jobId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt}: could not write its last progress report ({Reason}); recording its outcome")]
    private static partial void LogProgressLost(ILogger logger, Guid jobId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} attempt {Attempt}: the worker is stopping, its last progress report was not written ({Reason}); recording its outcome")]
    private static partial void LogProgressLostWhileStopping(ILogger logger, Guid jobId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain: {Count} jobs still running after {Timeout}; stopping them and releasing them to Pending")]
    private static partial void LogDrainStopping(ILogger logger, int count, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Error, Message = "Drain: {Busy} slots still busy {Grace} after their handlers were told to stop; leaving them to lease recovery")]
    private static partial void LogDrainAbandoned(ILogger logger, int busy, TimeSpan grace);
}

/// <summary>What became of a submission: whether the delivery may be acknowledged, and why.</summary>
internal readonly record struct JobIntake(JobIntakeKind Kind, string? Reason = null)
{
    public static JobIntake Started => new(JobIntakeKind.Started);

    public static JobIntake Scheduled => new(JobIntakeKind.Scheduled);

    public static JobIntake Awaiting => new(JobIntakeKind.Awaiting);

    public static JobIntake NotClaimable(string reason) => new(JobIntakeKind.NotClaimable, reason);

    public static JobIntake Rejected(string reason) => new(JobIntakeKind.Rejected, reason);

    public static JobIntake SetAside(string reason) => new(JobIntakeKind.SetAside, reason);

    public static JobIntake Held(string reason) => new(JobIntakeKind.Held, reason);
}

internal enum JobIntakeKind
{
    /// <summary>Claimed, and its handler runs in a slot.</summary>
    Started,

    /// <summary>Accepted as Pending, due later; the dispatcher sends it when it is due.</summary>
    Scheduled,

    /// <summary>Accepted as Awaiting, a continuation held until its parents finish.</summary>
    Awaiting,

    /// <summary>The ledger says this delivery has nothing to do: a duplicate, or a job running or finished elsewhere.</summary>
    NotClaimable,

    /// <summary>It can never run: recorded as Failed with the reason.</summary>
    Rejected,

    /// <summary>A dispatched job that could not be claimed for a reason of its own: recorded as Failed with the reason.</summary>
    SetAside,

    /// <summary>Its type's fleet-wide limit has no room: it waits in the ledger, unsent, and the dispatcher sends it when there is.</summary>
    Held,
}
