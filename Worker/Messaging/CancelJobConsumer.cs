using JobWorker.Contracts;
using JobWorker.Jobs;
using MassTransit;

namespace JobWorker.Messaging;

/// <summary>
/// CancelJob from the durable queue the replicas share: records the cancel in the ledger (see
/// <see cref="JobProcessor.CancelAsync"/>), so it holds even when the job's owner is busy, away, or dead.
/// </summary>
internal sealed class CancelJobConsumer(JobProcessor processor) : IConsumer<CancelJob>
{
    public Task Consume(ConsumeContext<CancelJob> context) =>
        processor.CancelAsync(context.Message.JobId, CancelReason(context.Message), context.CancellationToken);

    internal static string CancelReason(CancelJob message) =>
        string.IsNullOrWhiteSpace(message.Reason) ? "Cancelled on request." : message.Reason;
}

/// <summary>
/// CancelJob on this replica's temporary queue: if the job runs here, its handler stops at once rather than at the
/// next lease renewal. Writes nothing; <see cref="CancelJobConsumer"/> records the cancel.
/// </summary>
internal sealed class CancelJobNoticeConsumer(JobProcessor processor) : IConsumer<CancelJob>
{
    public Task Consume(ConsumeContext<CancelJob> context)
    {
        processor.StopIfRunningHere(context.Message.JobId, CancelJobConsumer.CancelReason(context.Message));
        return Task.CompletedTask;
    }
}
