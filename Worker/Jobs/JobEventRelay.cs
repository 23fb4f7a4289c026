using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Publishes the events the ledger recorded (the <c>job_events</c> outbox), at least once. The writer of a transition
/// hands its event over at once; the relay publishes it, each publish bounded, and marks what the broker confirmed as
/// published (it stays as the job's history), one statement per batch. An event that was not confirmed stays recorded, and a later sweep on any replica
/// (<see cref="SweepAsync"/>, by <see cref="JobEventSweeper"/>) publishes it again. A broker outage delays events; it loses none.
/// </summary>
internal sealed partial class JobEventRelay(
    JobStore store, IJobBroker broker, IOptions<DispatchOptions> options, IOptions<JobOptions> jobs, ILogger<JobEventRelay> logger)
    : BackgroundService
{
    private const int BatchLimit = 256;
    private readonly Channel<OutboxEvent> _queue = Channel.CreateUnbounded<OutboxEvent>(new UnboundedChannelOptions { SingleReader = true });
    private int _pending;
    private long _failures;

    /// <summary>Events handed over and not yet published or given up on.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public void Enqueue(OutboxEvent recorded)
    {
        if (!recorded.IsPublished)
        {
            return;
        }

        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite(recorded))
        {
            Interlocked.Decrement(ref _pending); // stopping: the sweep of a live replica publishes it
        }
    }

    /// <summary>Takes the events whose writer did not confirm them in time, and publishes them.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var overdue = await store.TakeUnpublishedEventsAsync(jobs.Value.QueueName, options.Value.BatchSize, cancellationToken);
        foreach (var recorded in overdue)
        {
            Enqueue(recorded);
        }

        return overdue.Count;
    }

    /// <summary>On shutdown: waits (at most <paramref name="timeout"/>) for the handed-over events to be published.</summary>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Pending > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, cancellationToken);
        }

        return Pending == 0;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<OutboxEvent>(BatchLimit);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < BatchLimit && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                await PublishAsync(batch, stoppingToken);
                Interlocked.Add(ref _pending, -batch.Count);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // What is left is still recorded: a live replica's sweep publishes it.
        }
    }

    private async Task PublishAsync(List<OutboxEvent> batch, CancellationToken cancellationToken)
    {
        var confirmed = await Task.WhenAll(batch.Select(e => TryPublishAsync(e, cancellationToken)));
        var published = batch.Where((_, i) => confirmed[i]).ToList();
        if (published.Count == 0)
        {
            return;
        }

        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(options.Value.EventRetryAfter);
            await store.MarkEventsPublishedAsync(published, bound.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // They stay recorded and are published again after EventRetryAfter: a duplicate, never a loss.
            LogDeleteFailed(logger, published.Count, Resilience.DatabaseErrors.Describe(e));
        }
    }

    private async Task<bool> TryPublishAsync(OutboxEvent recorded, CancellationToken cancellationToken)
    {
        try
        {
            await broker.PublishAsync(recorded, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One line per burst, not one per event: a broker outage fails every publish at once.
            if (Interlocked.Increment(ref _failures) % 100 == 1)
            {
                LogPublishFailed(logger, recorded.ToString(), e.Message, options.Value.EventRetryAfter);
            }

            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish {Event} ({Reason}); it stays recorded and is published again after {RetryAfter}")]
    private static partial void LogPublishFailed(ILogger logger, string @event, string reason, TimeSpan retryAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark {Count} published events as published ({Reason}); they will be published again")]
    private static partial void LogDeleteFailed(ILogger logger, int count, string reason);
}
