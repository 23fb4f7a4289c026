using JobWorker.Contracts;
using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// The SubmitJob adapter: the message in, to <see cref="JobProcessor"/>, as a new submission or, when a dispatcher sent
/// it (<see cref="DispatchedJob"/>), as a job to claim from the ledger; the delivery acknowledged once the ledger needs
/// nothing more from it (the job is claimed and runs in a slot, is scheduled, is a duplicate, or was set aside), or moved
/// to the error queue with the reason when the job can never run.
/// </summary>
internal sealed partial class SubmitJobConsumer(
    JobProcessor processor, IOptions<JobOptions> jobs, IOptions<SubmissionOptions> submissions, ILogger<SubmitJobConsumer> logger)
    : IConsumer<SubmitJob>
{
    public async Task Consume(ConsumeContext<SubmitJob> context)
    {
        var message = context.Message;
        if (DispatchedJob.Is(context) && message.JobId != Guid.Empty)
        {
            // Accepted already: claimed from the ledger, never checked again as a submission.
            await processor.TakeDispatchedAsync(message.JobId, message.JobType, message.Priority, context.CancellationToken);
            return;
        }

        if (message.JobId == Guid.Empty)
        {
            const string reason = "JobId is missing or empty (is the body a SubmitJob?).";
            LogRejected(logger, reason);
            throw new RejectedJobException(reason);
        }

        var problem = SubmitJobValidator.Validate(message, submissions.Value, out var storedPayload);
        var job = SubmitJobValidator.ToNewJob(message, submissions.Value, QueueNames.Jobs(jobs.Value), storedPayload);
        var intake = await processor.TakeAsync(job, SubmitJobValidator.Payload(message), problem, context.CancellationToken);
        if (intake.Kind == JobIntakeKind.Rejected)
        {
            throw new RejectedJobException(intake.Reason!);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "SubmitJob rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);
}
