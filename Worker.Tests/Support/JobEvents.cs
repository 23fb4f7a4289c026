using System.Collections.Concurrent;
using JobWorker.Contracts;
using MassTransit;

namespace JobWorker.Tests;

/// <summary>
/// The job events a publisher's bus receives, per job. Events are published at least once, so a copy of the same event
/// (the same message id) counts once: two different terminal events for one job would be a real double completion.
/// </summary>
internal sealed class JobEvents
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, string>> _byJob = new();
    private readonly ConcurrentDictionary<string, byte> _queues = new();
    private int _deliveries;

    /// <summary>Every event delivery, copies included.</summary>
    public int Deliveries => Volatile.Read(ref _deliveries);

    public int Started(Guid jobId) => Count(jobId, "Started");

    public int Succeeded(Guid jobId) => Count(jobId, "Succeeded");

    public int FailedForGood(Guid jobId) => Count(jobId, "Failed");

    public int Cancelled(Guid jobId) => Count(jobId, "Cancelled");

    /// <summary>The <c>Queue</c> every event so far carried.</summary>
    public IReadOnlyCollection<string> Queues => [.. _queues.Keys];

    /// <summary>Whether any event of the job arrived.</summary>
    public bool Any(Guid jobId) => _byJob.ContainsKey(jobId);

    /// <summary>Jobs among <paramref name="jobs"/> with more than one distinct terminal event.</summary>
    public List<Guid> CompletedMoreThanOnce(IEnumerable<SubmitJob> jobs) =>
        [.. jobs.Select(j => j.JobId).Where(id => Succeeded(id) + FailedForGood(id) + Cancelled(id) > 1)];

    private int Count(Guid jobId, string kind) => _byJob.TryGetValue(jobId, out var events) ? events.Values.Count(k => k == kind) : 0;

    private void Record(Guid jobId, Guid? messageId, string kind, string queue)
    {
        _queues.TryAdd(queue, 0);
        Interlocked.Increment(ref _deliveries);
        _byJob.GetOrAdd(jobId, _ => new()).TryAdd(messageId ?? Guid.NewGuid(), kind);
    }

    public sealed class Recorder(JobEvents events) :
        IConsumer<JobStarted>, IConsumer<JobSucceeded>, IConsumer<JobFailed>, IConsumer<JobCancelled>
    {
        public Task Consume(ConsumeContext<JobStarted> context) => Record(context, context.Message.JobId, "Started", context.Message.Queue);

        public Task Consume(ConsumeContext<JobSucceeded> context) => Record(context, context.Message.JobId, "Succeeded", context.Message.Queue);

        public Task Consume(ConsumeContext<JobFailed> context) =>
            Record(context, context.Message.JobId, context.Message.WillRetry ? "Retry" : "Failed", context.Message.Queue);

        public Task Consume(ConsumeContext<JobCancelled> context) => Record(context, context.Message.JobId, "Cancelled", context.Message.Queue);

        private Task Record(ConsumeContext context, Guid jobId, string kind, string queue)
        {
            events.Record(jobId, context.MessageId, kind, queue);
            return Task.CompletedTask;
        }
    }
}
