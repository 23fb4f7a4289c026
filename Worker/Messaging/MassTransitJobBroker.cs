using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Messaging;

/// <summary>
/// The job lifecycle's broker calls over MassTransit: SubmitJob for dispatched jobs, the job events, and operators' CancelJob,
/// all to the deployment's own queues and exchanges (see <see cref="QueueNames"/>), each bounded by
/// <c>RabbitMq:PublishTimeout</c>. RabbitMQ.Client can wait for a publisher confirm for ever when the broker restarts
/// under load, so the bound does not rely on the client honouring cancellation.
/// </summary>
internal sealed class MassTransitJobBroker(IBus bus, IOptions<JobOptions> jobs, IOptions<RabbitMqOptions> rabbit) : IJobBroker
{
    private readonly Uri _cancelQueue = DurableQueues.SendAddress(QueueNames.Cancel(jobs.Value), rabbit.Value);
    private readonly string _queue = jobs.Value.QueueName;

    // Built at the first send (a bad RabbitMq:Hosts throws there, as before), not once per dispatched job.
    private JobsQueueBroker? _jobsBroker;

    public TimeSpan CallBound => rabbit.Value.PublishTimeout;

    public async Task SendAsync(DueJob job, CancellationToken cancellationToken)
    {
        using var bound = Bound(cancellationToken);
        var address = await JobsQueue.SendAddressAsync(QueueNames.Jobs(jobs.Value), _jobsBroker ??= DurableQueues.JobsBroker(rabbit.Value), bound.Token);
        var endpoint = await bus.GetSendEndpoint(address).WaitAsync(bound.Token);
        await endpoint.Send(new SubmitJob { JobId = job.Id, JobType = job.Type, Priority = job.Priority }, context =>
            {
                context.Headers.Set(DispatchedJob.Header, true);
                DurableQueues.Priority(context, job.Priority);
                DurableQueues.Mandatory(context);
            }, bound.Token)
            .WaitAsync(bound.Token);
    }

    public async Task PublishAsync(OutboxEvent recorded, CancellationToken cancellationToken)
    {
        using var bound = Bound(cancellationToken);
        var publish = recorded.EventKind switch
        {
            JobEventKind.Started => Publish(new JobStarted
            {
                JobId = recorded.JobId,
                Queue = _queue,
                JobType = recorded.JobType,
                Attempt = recorded.Attempt,
                WorkerId = recorded.WorkerId ?? "",
                StartedAt = recorded.OccurredAt,
                CorrelationId = recorded.CorrelationId,
            }, recorded, bound.Token),
            JobEventKind.Succeeded => Publish(new JobSucceeded
            {
                JobId = recorded.JobId,
                Queue = _queue,
                JobType = recorded.JobType,
                Attempt = recorded.Attempt,
                Result = recorded.Result is null ? null : JsonSerializer.Deserialize<JsonElement>(recorded.Result),
                Duration = recorded.StartedAt is { } started && recorded.OccurredAt > started ? recorded.OccurredAt - started : TimeSpan.Zero,
                CorrelationId = recorded.CorrelationId,
            }, recorded, bound.Token),
            JobEventKind.Failed or JobEventKind.Retrying => Publish(new JobFailed
            {
                JobId = recorded.JobId,
                Queue = _queue,
                JobType = recorded.JobType,
                Attempt = recorded.Attempt,
                Error = recorded.Error ?? "",
                WillRetry = recorded.EventKind == JobEventKind.Retrying || recorded.WillRetry,
                CorrelationId = recorded.CorrelationId,
            }, recorded, bound.Token),
            JobEventKind.Cancelled => Publish(new JobCancelled
            {
                JobId = recorded.JobId,
                Queue = _queue,
                Attempt = recorded.Attempt,
                Reason = recorded.Error ?? "",
            }, recorded, bound.Token),
            _ => throw new InvalidOperationException($"{recorded} is history only: it is never published."),
        };
        await publish.WaitAsync(bound.Token);
    }

    /// <summary>
    /// Sent to the deployment's durable cancel queue, whose exchange every replica's notice queue is bound to: the
    /// running replica hears of it at once, and the queue (declared by this send if no worker has yet) keeps it.
    /// </summary>
    public async Task PublishCancelAsync(Guid jobId, string reason, CancellationToken cancellationToken)
    {
        using var bound = Bound(cancellationToken);
        var endpoint = await bus.GetSendEndpoint(_cancelQueue).WaitAsync(bound.Token);
        await endpoint.Send(new CancelJob { JobId = jobId, Reason = reason }, context => DurableQueues.Mandatory(context), bound.Token).WaitAsync(bound.Token);
    }

    private Task Publish<T>(T message, OutboxEvent recorded, CancellationToken cancellationToken) where T : class =>
        bus.Publish(message, context => context.MessageId = recorded.MessageId, cancellationToken);

    private CancellationTokenSource Bound(CancellationToken cancellationToken)
    {
        var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(rabbit.Value.PublishTimeout);
        return bound;
    }

}
