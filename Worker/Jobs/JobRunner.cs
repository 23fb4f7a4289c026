using System.Diagnostics;
using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;

namespace JobWorker.Jobs;

/// <summary>Runs one attempt of a handler under its time limit and turns however it ends into a <see cref="JobOutcome"/>.</summary>
public sealed partial class JobRunner(ILogger<JobRunner> logger)
{
    /// <param name="stopping">Fires when the worker stops: the attempt is interrupted, not failed.</param>
    /// <param name="cancelled">Fires when a CancelJob arrives for this job.</param>
    public async Task<JobOutcome> RunAsync(IJobHandler handler, JobRun job, TimeSpan timeout, CancellationToken stopping, CancellationToken cancelled)
    {
        using var activity = JobWorkerTelemetry.ActivitySource.StartActivity($"jobworker.job.run {job.JobType}");
        activity?.SetTag("jobworker.job.id", job.JobId);
        activity?.SetTag("jobworker.job.type", job.JobType);
        activity?.SetTag("jobworker.job.attempt", job.Attempt);
        var started = Stopwatch.GetTimestamp();
        var outcome = await RunCoreAsync(handler, job, timeout, stopping, cancelled);
        JobWorkerTelemetry.JobDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
            JobWorkerTelemetry.JobType(job.JobType), new KeyValuePair<string, object?>("outcome", outcome.Kind.ToString()));
        activity?.SetTag("jobworker.job.outcome", outcome.Kind.ToString());
        if (outcome.Kind == JobOutcomeKind.Failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Error);
        }

        return outcome;
    }

    private async Task<JobOutcome> RunCoreAsync(IJobHandler handler, JobRun job, TimeSpan timeout, CancellationToken stopping, CancellationToken cancelled)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping, cancelled);
        attempt.CancelAfter(timeout);
        try
        {
            var result = await handler.RunAsync(job, attempt.Token);
            return JobOutcome.Succeeded(result);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return JobOutcome.Interrupted;
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            return JobOutcome.Cancelled;
        }
        catch (OperationCanceledException) when (attempt.IsCancellationRequested)
        {
            return JobOutcome.Failed($"Timed out after {timeout} (attempt {job.Attempt}).", retryable: true);
        }
        catch (InvalidJobPayloadException e)
        {
            return JobOutcome.Failed($"Invalid payload: {e.Message}", retryable: false);
        }
        catch (Exception e)
        {
            LogHandlerFailed(logger, e, job.JobId, job.JobType, job.Attempt);
            return JobOutcome.Failed($"{e.GetType().Name}: {e.Message}", retryable: true);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({JobType}) attempt {Attempt}: the handler threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, Guid jobId, string jobType, int attempt);
}
