using System.Diagnostics;
using System.Text.Json;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>
/// A job's life in this worker: wait for a slot, accept and claim (Running, attempt + 1), run the handler in
/// the slot, record the outcome (Succeeded, Failed, Cancelled, or Pending again, due after a backoff). Every step is
/// one short transition on <see cref="JobStore"/>; no connection is held while a handler runs or a delivery waits.
/// </summary>
/// <remarks>
/// <see cref="TakeAsync"/> returns as soon as the job is claimed (or needs nothing more from this delivery), so the
/// delivery can be acknowledged: from then on the job's progress lives in the ledger and in the slot, not in the
/// broker. A broker restart, a channel closure or RabbitMQ's consumer_timeout never touches a running handler.
/// </remarks>
internal sealed partial class JobProcessor(
    JobStore store,
    JobCompleter completer,
    JobSlots slots,
    JobRunner runner,
    JobHandlerCatalog handlers,
    JobEventRelay relay,
    WorkerIdentity worker,
    IServiceScopeFactory scopes,
    IOptions<JobOptions> options,
    IOptions<SubmissionOptions> submissions,
    IOptions<RetryOptions> retries,
    IOptions<ResilienceOptions> resilience,
    ILogger<JobProcessor> logger)
{
    private readonly CancellationTokenSource _stopped = new();

    /// <summary>
    /// Takes one submission: rejects it when it can never run, accepts it, and when it is due, waits for a slot, claims
    /// it and starts its handler. <paramref name="problem"/> is what the caller found wrong with the message itself.
    /// </summary>
    public async Task<JobIntake> TakeAsync(NewJob job, JsonElement payload, string? problem, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        problem ??= JobLimits.Check(job, submissions.Value, DateTime.UtcNow) ?? (handlers.Handles(job.Type) ? null : handlers.DescribeUnknown(job.Type));
        Job? claimed;
        JobSlots.Slot slot;
        if (problem is null && job is { RunAt: null, Delay: null })
        {
            // The common case, a job due now: it waits for a slot in the delivery (holding no connection), then is
            // accepted and claimed in one statement.
            slot = await slots.TakeAsync(cancellationToken);
            try
            {
                (var accepted, claimed) = await store.AcceptAndClaimAsync(job, worker.Id, Guid.NewGuid(), settings.LeaseDuration, cancellationToken);
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
        }
        else
        {
            // Rejected, or scheduled: recorded first, so the ledger holds it (and the delivery can go) until it is due.
            var due = await store.AcceptAsync(problem is null ? job : job with { PayloadJson = "null", RunAt = null, Delay = null }, cancellationToken);
            if (due is not null)
            {
                JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(job.Type));
            }

            if (problem is not null)
            {
                await RejectAsync(job.Id, job.Type, problem, cancellationToken);
                return JobIntake.Rejected(problem);
            }

            if (due is false)
            {
                return JobIntake.Scheduled;
            }

            slot = await slots.TakeAsync(cancellationToken);
            try
            {
                claimed = await store.ClaimAsync(job.Id, worker.Id, Guid.NewGuid(), settings.LeaseDuration, cancellationToken);
            }
            catch
            {
                slot.Dispose();
                throw;
            }
        }

        if (claimed is null)
        {
            slot.Dispose();
            return await DescribeUnclaimableAsync(job.Id, cancellationToken);
        }

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

    /// <summary>
    /// A CancelJob: records it in the ledger (a Pending or unknown job ends Cancelled at once; a Running one gets the
    /// request) and stops the handler if the job runs here. Its owner elsewhere sees the request at its next lease
    /// renewal; if the owner is dead, recovery ends the job Cancelled.
    /// </summary>
    public async Task<JobState?> CancelAsync(Guid jobId, string reason, CancellationToken cancellationToken)
    {
        var state = await store.RequestCancelAsync(jobId, reason, cancellationToken);
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

    private async Task RunInSlotAsync(JobSlots.Slot slot, RunningJob running, JsonElement payload)
    {
        await Task.Yield(); // the delivery is acknowledged while the handler runs
        var claimed = running.Claimed;
        try
        {
            JobOutcome outcome;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var handler = handlers.Resolve(scope.ServiceProvider, claimed.Type)
                    ?? throw new InvalidOperationException(handlers.DescribeUnknown(claimed.Type));
                var run = new JobRun(claimed.Id, claimed.Type, payload, claimed.Attempt, claimed.MaxAttempts, claimed.CorrelationId);
                outcome = await runner.RunAsync(handler, run, claimed.Timeout ?? submissions.Value.DefaultTimeout, running);
            }
            catch (Exception e)
            {
                // Whatever went wrong after the claim ends this attempt with the reason; the row is never left Running.
                LogRunFailed(logger, e, claimed.Id, claimed.Attempt);
                outcome = JobOutcome.Failed($"Worker error after the claim: {e.GetType().Name}: {e.Message}", retryable: true);
            }

            running.HandlerReturned = true;
            await RecordAsync(claimed, outcome);
        }
        catch (Exception e)
        {
            // The database did not take the write within its bound: the lease lapses and recovery decides.
            LogOutcomeLost(logger, claimed.Id, claimed.Attempt, DatabaseErrors.Describe(e));
        }
        finally
        {
            slot.Dispose();
        }
    }

    /// <summary>
    /// Records how the attempt ended. The write may keep trying through a database outage for one lease and the grace
    /// period; past that the lease has lapsed, the slot is freed, and recovery decides what happens to the job.
    /// </summary>
    private async Task RecordAsync(Job claimed, JobOutcome outcome)
    {
        var settings = options.Value;
        using var recording = CancellationTokenSource.CreateLinkedTokenSource(_stopped.Token);
        recording.CancelAfter(settings.LeaseDuration + resilience.Value.OutcomeGracePeriod);
        var ct = recording.Token;

        OutboxEvent? recorded;
        switch (outcome.Kind)
        {
            case JobOutcomeKind.Succeeded:
                recorded = await completer.SucceedAsync(claimed, outcome.Result?.GetRawText(), ct);
                if (recorded is not null)
                {
                    JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsSucceeded, claimed.Type);
                }

                break;

            case JobOutcomeKind.Cancelled:
                recorded = await store.CancelRunningAsync(claimed, outcome.Error!, ct);
                LogCancelled(logger, claimed.Id, claimed.Attempt, outcome.Error!, recorded is not null);
                if (recorded is not null)
                {
                    JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsCancelled, claimed.Type);
                }

                break;

            case JobOutcomeKind.Interrupted:
                var released = await store.ReleaseAsync(claimed, ct);
                LogInterrupted(logger, claimed.Id, claimed.Attempt, outcome.Error!, released?.State.ToString() ?? "not applied: the row had moved on");
                recorded = released?.Event;
                break;

            default:
                var retry = outcome.Retryable && claimed.Attempt < claimed.MaxAttempts
                    ? RetryBackoff.After(claimed.Attempt, retries.Value.BaseDelay, retries.Value.MaxDelay)
                    : (TimeSpan?)null;
                var error = outcome.Error ?? "Unknown error.";
                recorded = retry is { } after
                    ? await store.RetryLaterAsync(claimed, error, after, ct)
                    : await store.FailAsync(claimed, error, ct);
                if (recorded is not null)
                {
                    LogAttemptFailed(logger, claimed.Id, claimed.Type, claimed.Attempt, claimed.MaxAttempts, retry, error);
                    if (!recorded.WillRetry)
                    {
                        JobWorkerTelemetry.RecordFinished(
                            recorded.EventKind == JobEventKind.Cancelled ? JobWorkerTelemetry.JobsCancelled : JobWorkerTelemetry.JobsFailed, claimed.Type);
                    }
                }

                break;
        }

        slots.RecordProgress();
        if (recorded is null && outcome.Kind != JobOutcomeKind.Interrupted)
        {
            LogOutcomeNotRecorded(logger, claimed.Id, claimed.Attempt, outcome.Kind);
        }
        else if (recorded is not null)
        {
            relay.Enqueue(recorded);
        }
    }

    private async Task RejectAsync(Guid jobId, string jobType, string problem, CancellationToken cancellationToken)
    {
        // The row was just stored as Pending at attempt 0, or existed already (a message sent again): fail it only
        // while nothing has run it.
        var current = await store.FindAsync(jobId, cancellationToken);
        var recorded = current is { State: JobState.Pending } ? await store.RejectAsync(jobId, current.Attempt, problem, cancellationToken) : null;
        LogRejected(logger, jobId, problem);
        if (recorded is not null)
        {
            JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsFailed, jobType);
            relay.Enqueue(recorded);
        }
    }

    private async Task<JobIntake> DescribeUnclaimableAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var current = await store.FindAsync(jobId, cancellationToken);
        var reason = current switch
        {
            null => "the job no longer exists",
            { State: JobState.Pending } => $"it is not due until {current.RunAt:O}",
            { State: JobState.Running } => $"worker {current.Owner} is running attempt {current.Attempt}",
            _ => $"it is already {current.State}",
        };
        LogNotClaimed(logger, jobId, reason);
        return JobIntake.NotClaimable(reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: delivery acknowledged without running the job, because {Reason}")]
    private static partial void LogNotClaimed(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({JobType}) attempt {Attempt} of {MaxAttempts} failed (retry after: {RetryAfter}): {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, Guid jobId, string jobType, int attempt, int maxAttempts, TimeSpan? retryAfter, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt}: could not record {Outcome}, the row had moved on (its lease lapsed or it was cancelled); left as it is")]
    private static partial void LogOutcomeNotRecorded(ILogger logger, Guid jobId, int attempt, JobOutcomeKind outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} interrupted ({Why}); released: {Result}")]
    private static partial void LogInterrupted(ILogger logger, Guid jobId, int attempt, string why, string result);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} cancelled ({Reason}); recorded: {Recorded}")]
    private static partial void LogCancelled(ILogger logger, Guid jobId, int attempt, string reason, bool recorded);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: cancelling its running handler ({Reason})")]
    private static partial void LogCancelling(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} cancelled before it ran ({Reason})")]
    private static partial void LogCancelledBeforeRun(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} attempt {Attempt}: the worker failed after the claim; ending the attempt")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, Guid jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} attempt {Attempt}: could not record the attempt's end ({Reason}); its lease will lapse and recovery takes the job back")]
    private static partial void LogOutcomeLost(ILogger logger, Guid jobId, int attempt, string reason);

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

    public static JobIntake NotClaimable(string reason) => new(JobIntakeKind.NotClaimable, reason);

    public static JobIntake Rejected(string reason) => new(JobIntakeKind.Rejected, reason);
}

internal enum JobIntakeKind
{
    /// <summary>Claimed, and its handler runs in a slot.</summary>
    Started,

    /// <summary>Accepted as Pending, due later; the dispatcher sends it when it is due.</summary>
    Scheduled,

    /// <summary>The ledger says this delivery has nothing to do: a duplicate, or a job running or finished elsewhere.</summary>
    NotClaimable,

    /// <summary>It can never run: recorded as Failed with the reason.</summary>
    Rejected,
}
