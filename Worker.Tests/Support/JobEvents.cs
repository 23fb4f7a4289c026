using System.Collections.Concurrent;
using JobWorker.Contracts;
using MassTransit;

namespace JobWorker.Tests;

/// <summary>Counts the job events a publisher's bus receives: how many times each job was reported finished.</summary>
public sealed class JobEvents
{
    private readonly ConcurrentDictionary<Guid, int> _succeeded = new();
    private readonly ConcurrentDictionary<Guid, int> _failedForGood = new();

    public int Succeeded(Guid jobId) => _succeeded.GetValueOrDefault(jobId);

    public int FailedForGood(Guid jobId) => _failedForGood.GetValueOrDefault(jobId);

    /// <summary>Jobs among <paramref name="jobs"/> reported finished more than once.</summary>
    public List<Guid> CompletedMoreThanOnce(IEnumerable<SubmitJob> jobs) =>
        [.. jobs.Select(j => j.JobId).Where(id => Succeeded(id) + FailedForGood(id) > 1)];

    internal void Record(JobSucceeded message) => _succeeded.AddOrUpdate(message.JobId, 1, (_, n) => n + 1);

    internal void Record(JobFailed message)
    {
        if (!message.WillRetry)
        {
            _failedForGood.AddOrUpdate(message.JobId, 1, (_, n) => n + 1);
        }
    }

    public sealed class Recorder(JobEvents events) : IConsumer<JobSucceeded>, IConsumer<JobFailed>
    {
        public Task Consume(ConsumeContext<JobSucceeded> context)
        {
            events.Record(context.Message);
            return Task.CompletedTask;
        }

        public Task Consume(ConsumeContext<JobFailed> context)
        {
            events.Record(context.Message);
            return Task.CompletedTask;
        }
    }
}
