using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace JobWorker.Messaging;

/// <summary>
/// Every replica receives each CancelJob. The replica running the job cancels its handler's token (its
/// SubmitJob consumer records Cancelled); any replica can cancel a job no one runs, with one guarded write.
/// </summary>
public sealed partial class CancelJobConsumer(JobStore store, InFlightJobs inFlight, ILogger<CancelJobConsumer> logger) : IConsumer<CancelJob>
{
    public async Task Consume(ConsumeContext<CancelJob> context)
    {
        var jobId = context.Message.JobId;
        var reason = string.IsNullOrWhiteSpace(context.Message.Reason) ? "Cancelled on request." : context.Message.Reason;
        if (inFlight.TryCancel(jobId, reason))
        {
            LogCancelling(logger, jobId, reason);
            return;
        }

        if (await store.CancelAsync(jobId, reason, context.CancellationToken) is { } attempt)
        {
            LogCancelled(logger, jobId, reason);
            JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsCancelled, "unknown");
            await context.Publish(new JobCancelled { JobId = jobId, Attempt = attempt, Reason = reason });
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: cancelling its running handler ({Reason})")]
    private static partial void LogCancelling(ILogger logger, Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} cancelled before it ran ({Reason})")]
    private static partial void LogCancelled(ILogger logger, Guid jobId, string reason);
}
