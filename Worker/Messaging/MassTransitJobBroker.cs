using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Messaging;

/// <summary>
/// The job lifecycle's broker calls over MassTransit: SubmitJob for dispatched jobs, the job events, and operators' CancelJob, each bounded by
/// <c>RabbitMq:PublishTimeout</c>. RabbitMQ.Client can wait for a publisher confirm for ever when the broker restarts
/// under load, so the bound does not rely on the client honouring cancellation.
/// </summary>
internal sealed class MassTransitJobBroker(IBus bus, IOptions<JobOptions> jobs, IOptions<RabbitMqOptions> rabbit) : IJobBroker
{
    private readonly Uri _jobQueue = new($"queue:{QueueNames.Jobs(jobs.Value)}");

    public TimeSpan CallBound => rabbit.Value.PublishTimeout;

    public async Task SendAsync(DueJob job, CancellationToken cancellationToken)
    {
        using var bound = Bound(cancellationToken);
        var endpoint = await bus.GetSendEndpoint(_jobQueue).WaitAsync(bound.Token);
        await endpoint.Send(new SubmitJob { JobId = job.Id, JobType = job.Type }, context => context.Headers.Set(DispatchedJob.Header, true), bound.Token)
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
                JobType = recorded.JobType,
                Attempt = recorded.Attempt,
                WorkerId = recorded.WorkerId ?? "",
                StartedAt = recorded.OccurredAt,
                CorrelationId = recorded.CorrelationId,
            }, recorded, bound.Token),
            JobEventKind.Succeeded => Publish(new JobSucceeded
            {
                JobId = recorded.JobId,
                JobType = recorded.JobType,
                Attempt = recorded.Attempt,
                Result = recorded.Result is null ? null : JsonSerializer.Deserialize<JsonElement>(recorded.Result),
                Duration = recorded.StartedAt is { } started && recorded.OccurredAt > started ? recorded.OccurredAt - started : TimeSpan.Zero,
                CorrelationId = recorded.CorrelationId,
            }, recorded, bound.Token),
            JobEventKind.Failed => Publish(new JobFailed
            {
                JobId = recorded.JobId,
                JobType = recorded.JobType,
                Attempt = recorded.Attempt,
                Error = recorded.Error ?? "",
                WillRetry = recorded.WillRetry,
                CorrelationId = recorded.CorrelationId,
            }, recorded, bound.Token),
            _ => Publish(new JobCancelled
            {
                JobId = recorded.JobId,
                Attempt = recorded.Attempt,
                Reason = recorded.Error ?? "",
            }, recorded, bound.Token),
        };
        await publish.WaitAsync(bound.Token);
    }

    public async Task PublishCancelAsync(Guid jobId, string reason, CancellationToken cancellationToken)
    {
        using var bound = Bound(cancellationToken);
        await bus.Publish(new CancelJob { JobId = jobId, Reason = reason }, bound.Token).WaitAsync(bound.Token);
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
