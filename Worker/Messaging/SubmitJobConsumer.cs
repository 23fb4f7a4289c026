using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// Takes a SubmitJob through its life: accept (Pending), claim (Running, attempt + 1), run the handler with
/// no connection held, record the outcome (Succeeded, Failed, Cancelled, or Pending again for a retry) and
/// publish the matching event. Every step is one short transition on <see cref="JobStore"/>.
/// </summary>
/// <remarks>
/// The message is acknowledged only when the job has reached a state that needs no more work from this
/// delivery. Shutdown cancels the consume: the job goes back to Pending and RabbitMQ requeues the message.
/// Input that can never run is recorded as Failed and rethrown, so MassTransit moves it to the error queue.
/// </remarks>
public sealed partial class SubmitJobConsumer(
    JobStore store,
    JobRunner runner,
    JobHandlerCatalog handlers,
    InFlightJobs inFlight,
    WorkerIdentity worker,
    IServiceProvider scope,
    IOptions<JobOptions> options,
    IOptions<ResilienceOptions> resilience,
    ILogger<SubmitJobConsumer> logger) : IConsumer<SubmitJob>
{
    public async Task Consume(ConsumeContext<SubmitJob> context)
    {
        var jobId = context.Message.JobId;
        if (jobId == Guid.Empty)
        {
            const string reason = "JobId is missing or empty (is the body a SubmitJob?).";
            LogRejected(logger, jobId, reason);
            throw new RejectedJobException(reason);
        }

        // Another delivery of this job is still in flight here. Typically the broker connection dropped: that
        // delivery's consume was cancelled and it is releasing the job, and RabbitMQ has redelivered the message.
        // Acknowledging this copy now could lose the job, so wait for the other to end, then decide from the row.
        InFlightJob? job;
        while ((job = inFlight.TryBegin(jobId)) is null)
        {
            LogWaitingForInFlight(logger, jobId);
            await inFlight.WaitForEndAsync(jobId, context.CancellationToken);
        }

        try
        {
            await ProcessAsync(context, job, options.Value);
        }
        catch (OperationCanceledException) when (job.Cancelled.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // Cancelled before or between attempts (while Pending): no handler is running to record it.
            var attempt = await store.CancelAsync(jobId, job.CancelReason!, context.CancellationToken);
            if (attempt is { } at)
            {
                JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsCancelled, context.Message.JobType);
                await PublishCancelledAsync(context, jobId, at, job.CancelReason!);
            }
        }
        finally
        {
            inFlight.End(jobId);
        }
    }

    private async Task ProcessAsync(ConsumeContext<SubmitJob> context, InFlightJob inFlightJob, JobOptions settings)
    {
        var message = context.Message;
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, inFlightJob.Cancelled);
        var problem = SubmitJobValidator.Validate(message, settings, out var storedPayload);
        var job = SubmitJobValidator.ToNewJob(message, settings, storedPayload);
        if (await store.AcceptAsync(job, context.CancellationToken))
        {
            JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(job.Type));
        }

        var handler = problem is null ? handlers.Resolve(scope, job.Type) : null;
        problem ??= handler is null ? handlers.DescribeUnknown(job.Type) : null;
        if (problem is not null)
        {
            await RejectAsync(context, job.Id, job.Type, JobState.Pending, attempt: 0, problem);
            throw new RejectedJobException(problem);
        }

        while (true)
        {
            waits.Token.ThrowIfCancellationRequested();
            var claimed = await store.ClaimAsync(job.Id, worker.Id, settings.LeaseDuration, context.CancellationToken);
            if (claimed is null)
            {
                if (await WaitForClaimableAsync(context, job.Id, settings, waits.Token))
                {
                    continue;
                }

                return;
            }

            var next = await RunAttemptAsync(context, inFlightJob, handler!, claimed, settings);
            if (next is not { } backoff)
            {
                return;
            }

            // The message stays unacknowledged during the backoff, so a crash here loses nothing:
            // RabbitMQ redelivers it and another replica picks the job up.
            await Task.Delay(backoff, waits.Token);
        }
    }

    /// <summary>Runs one attempt and records it. Returns the backoff before the next attempt, or null when the job is done.</summary>
    private async Task<TimeSpan?> RunAttemptAsync(
        ConsumeContext<SubmitJob> context, InFlightJob inFlightJob, IJobHandler handler, Job claimed, JobOptions settings)
    {
        JobWorkerTelemetry.JobsStarted.Add(1, JobWorkerTelemetry.JobType(claimed.Type));
        if (claimed.Attempt == 1 && context.SentTime is { } sent)
        {
            JobWorkerTelemetry.QueueWait.Record(Math.Max(0, (DateTime.UtcNow - sent).TotalSeconds), JobWorkerTelemetry.JobType(claimed.Type));
        }

        await context.Publish(new JobStarted
        {
            JobId = claimed.Id,
            JobType = claimed.Type,
            Attempt = claimed.Attempt,
            WorkerId = worker.Id,
            StartedAt = claimed.StartedAt ?? DateTime.UtcNow,
            CorrelationId = claimed.CorrelationId,
        });

        // Outcome writes outlive the consume token by a grace period: an attempt that finished is recorded even
        // while the worker stops. Past it the write gives up, the message is requeued, and the lease decides.
        using var outcomeWrites = new CancellationTokenSource();
        await using var graceAfterStop = context.CancellationToken.Register(
            () => outcomeWrites.CancelAfter(resilience.Value.OutcomeGracePeriod));
        var recording = outcomeWrites.Token;

        var started = TimeProvider.System.GetTimestamp();
        var job = new JobRun(claimed.Id, claimed.Type, SubmitJobValidator.Payload(context.Message), claimed.Attempt, claimed.MaxAttempts, claimed.CorrelationId);
        var outcome = await runner.RunAsync(handler, job, claimed.Timeout ?? settings.DefaultTimeout, context.CancellationToken, inFlightJob.Cancelled);

        switch (outcome.Kind)
        {
            case JobOutcomeKind.Succeeded:
            {
                var written = await store.SucceedAsync(claimed.Id, claimed.Attempt, outcome.Result?.GetRawText(), recording);
                if (!written.Applied)
                {
                    LogOutcomeNotRecorded(logger, claimed.Id, claimed.Attempt, JobState.Succeeded, written);
                    return null;
                }

                JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsSucceeded, claimed.Type);
                await context.Publish(new JobSucceeded
                {
                    JobId = claimed.Id,
                    JobType = claimed.Type,
                    Attempt = claimed.Attempt,
                    Result = outcome.Result,
                    Duration = TimeProvider.System.GetElapsedTime(started),
                    CorrelationId = claimed.CorrelationId,
                });
                return null;
            }

            case JobOutcomeKind.Interrupted:
            {
                var written = await store.ReleaseAsync(claimed.Id, claimed.Attempt, recording);
                LogInterrupted(logger, claimed.Id, claimed.Attempt, written);
                throw new OperationCanceledException("The consume was cancelled; the job goes back to the queue.", context.CancellationToken);
            }

            case JobOutcomeKind.Cancelled:
            {
                var reason = inFlightJob.CancelReason ?? "Cancelled.";
                var written = await store.CancelRunningAsync(claimed.Id, claimed.Attempt, reason, recording);
                LogCancelled(logger, claimed.Id, claimed.Attempt, reason, written);
                if (written.Applied)
                {
                    JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsCancelled, claimed.Type);
                    await PublishCancelledAsync(context, claimed.Id, claimed.Attempt, reason);
                }

                return null;
            }

            default:
            {
                var willRetry = outcome.Retryable && claimed.Attempt < claimed.MaxAttempts;
                var error = outcome.Error ?? "Unknown error.";
                var written = await store.FailAsync(claimed.Id, claimed.Attempt, error, willRetry, recording);
                if (!written.Applied)
                {
                    LogOutcomeNotRecorded(logger, claimed.Id, claimed.Attempt, willRetry ? JobState.Pending : JobState.Failed, written);
                    return null;
                }

                LogAttemptFailed(logger, claimed.Id, claimed.Type, claimed.Attempt, claimed.MaxAttempts, willRetry, error);
                if (!willRetry)
                {
                    JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsFailed, claimed.Type);
                }

                await PublishFailedAsync(context, claimed.Id, claimed.Type, claimed.Attempt, error, willRetry);
                if (!outcome.Retryable)
                {
                    // Input the handler rejected is bad input: its message belongs in the error queue with the reason.
                    throw new RejectedJobException(error);
                }

                return willRetry ? RetryBackoff.After(claimed.Attempt, settings.RetryBaseDelay, settings.RetryMaxDelay) : null;
            }
        }
    }

    /// <summary>
    /// The claim found nothing to claim. Decides from the row whether this delivery is a duplicate (ack it),
    /// the job has run out of attempts (fail it), or another worker holds it and this delivery should wait
    /// for that worker to finish or for its lease to lapse. Returns true to try the claim again.
    /// </summary>
    private async Task<bool> WaitForClaimableAsync(ConsumeContext<SubmitJob> context, Guid jobId, JobOptions settings, CancellationToken waits)
    {
        var current = await store.FindAsync(jobId, context.CancellationToken);
        if (current is null || current.State.IsTerminal())
        {
            LogDuplicate(logger, jobId, current is null ? "the job no longer exists" : $"it is already {current.State}");
            return false;
        }

        if (current.Attempt >= current.MaxAttempts && current.State == JobState.Pending
            || current.Attempt >= current.MaxAttempts && current.LeaseExpiresAt < DateTime.UtcNow)
        {
            var error = current.State == JobState.Running
                ? $"Gave up after {current.Attempt} of {current.MaxAttempts} attempts: worker {current.Owner} stopped during the last one."
                : $"Gave up after {current.Attempt} of {current.MaxAttempts} attempts.{(current.Error is null ? "" : " Last error: " + current.Error)}";
            await RejectAsync(context, jobId, current.Type, current.State, current.Attempt, error);
            return false;
        }

        if (current.State == JobState.Running && !context.ReceiveContext.Redelivered)
        {
            // Another worker runs the job and still holds its own copy of the message; this one is a duplicate.
            LogDuplicate(logger, jobId, $"worker {current.Owner} is running attempt {current.Attempt}");
            return false;
        }

        // A redelivery while another worker holds a live lease: that worker lost its broker connection or died
        // moments ago. Wait (holding no connection) until it finishes or its lease lapses.
        await Task.Delay(Clamp(settings.LeaseDuration / 4, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5)), waits);
        return true;
    }

    private async Task RejectAsync(ConsumeContext<SubmitJob> context, Guid jobId, string jobType, JobState expected, int attempt, string error)
    {
        var written = await store.RejectAsync(jobId, expected, attempt, error, context.CancellationToken);
        LogRejected(logger, jobId, error);
        if (written.Applied)
        {
            JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsFailed, jobType);
            await PublishFailedAsync(context, jobId, jobType, attempt, error, willRetry: false);
        }
    }

    private static Task PublishFailedAsync(ConsumeContext<SubmitJob> context, Guid jobId, string jobType, int attempt, string error, bool willRetry) =>
        context.Publish(new JobFailed
        {
            JobId = jobId,
            JobType = jobType,
            Attempt = attempt,
            Error = error,
            WillRetry = willRetry,
            CorrelationId = context.Message.CorrelationId,
        });

    private static Task PublishCancelledAsync(ConsumeContext context, Guid jobId, int attempt, string reason) =>
        context.Publish(new JobCancelled { JobId = jobId, Attempt = attempt, Reason = reason });

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) =>
        value < min ? min : value > max ? max : value;

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: duplicate delivery ignored because {Reason}")]
    private static partial void LogDuplicate(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: another delivery of it is in flight in this worker; waiting for it to end")]
    private static partial void LogWaitingForInFlight(ILogger logger, Guid jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({JobType}) attempt {Attempt} of {MaxAttempts} failed (will retry: {WillRetry}): {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, Guid jobId, string jobType, int attempt, int maxAttempts, bool willRetry, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt}: could not record {State}, the row has moved on ({Found}); left as it is")]
    private static partial void LogOutcomeNotRecorded(ILogger logger, Guid jobId, int attempt, JobState state, TransitionResult found);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} interrupted (worker stopping or broker connection lost); released to Pending ({Result}) and requeued")]
    private static partial void LogInterrupted(ILogger logger, Guid jobId, int attempt, TransitionResult result);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} cancelled ({Reason}); recorded: {Result}")]
    private static partial void LogCancelled(ILogger logger, Guid jobId, int attempt, string reason, TransitionResult result);
}
