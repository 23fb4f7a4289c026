using System.Diagnostics;
using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;

namespace JobWorker.Jobs;

/// <summary>Runs one attempt of a handler under its time limit and turns however it ends into an <see cref="AttemptResult"/>.</summary>
internal sealed partial class JobRunner(ILogger<JobRunner> logger)
{
    // CancellationTokenSource.CancelAfter takes at most uint.MaxValue - 1 ms (about 49 days).
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <param name="running">The job in its slot: its <see cref="RunningJob.Stopping"/> fires on cancel, drain or a lost lease.</param>
    public async Task<AttemptResult> RunAsync(IJobHandler handler, JobRun job, TimeSpan timeout, RunningJob running)
    {
        using var activity = JobWorkerTelemetry.ActivitySource.StartActivity($"jobworker.job.run {job.JobType}");
        activity?.SetTag("jobworker.job.id", job.JobId);
        activity?.SetTag("jobworker.job.type", job.JobType);
        activity?.SetTag("jobworker.job.attempt", job.Attempt);
        var started = Stopwatch.GetTimestamp();
        var outcome = await RunCoreAsync(handler, job, timeout, running);
        JobWorkerTelemetry.JobDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
            JobWorkerTelemetry.JobType(job.JobType), new KeyValuePair<string, object?>("outcome", outcome.End.ToString()));
        activity?.SetTag("jobworker.job.outcome", outcome.End.ToString());
        if (outcome.End == AttemptEnd.Failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Error);
        }

        return outcome;
    }

    private async Task<AttemptResult> RunCoreAsync(IJobHandler handler, JobRun job, TimeSpan timeout, RunningJob running)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(running.Stopping);
        attempt.CancelAfter(timeout < LongestTimer ? timeout : LongestTimer);
        try
        {
            var result = await handler.RunAsync(job, attempt.Token);
            return AttemptResult.Succeeded(result);
        }
        catch (OperationCanceledException) when (running.Stopping.IsCancellationRequested)
        {
            return running.StopReason switch
            {
                JobStop.Cancelled => AttemptResult.Cancelled(running.CancelReason ?? "Cancelled on request."),
                JobStop.Draining => AttemptResult.Interrupted("the worker is stopping"),
                _ => AttemptResult.Interrupted("the lease could not be renewed"),
            };
        }
        catch (OperationCanceledException) when (attempt.IsCancellationRequested)
        {
            return AttemptResult.Failed($"Timed out after {timeout} (attempt {job.Attempt}).", retryable: true);
        }
        catch (InvalidJobPayloadException e)
        {
            return AttemptResult.Failed($"Invalid payload: {e.Message}", retryable: false);
        }
        catch (Exception e)
        {
            LogHandlerFailed(logger, e, job.JobId, job.JobType, job.Attempt);
            return AttemptResult.Failed($"{e.GetType().Name}: {e.Message}", retryable: true);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({JobType}) attempt {Attempt}: the handler threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, Guid jobId, string jobType, int attempt);
}
