using System.Collections.Concurrent;
using JobWorker.Contracts;
using MassTransit;

namespace JobWorker.Tests;

/// <summary>
/// The job ids of every SubmitJob, CancelJob and GetJobStatus a worker's bus consumed, whichever of its endpoints took
/// them: what tells that a message reached a deployment, even one (a status request) that writes nothing.
/// </summary>
internal sealed class ConsumedMessages : IConsumeObserver
{
    private readonly ConcurrentDictionary<Guid, ConcurrentBag<string>> _byJob = new();

    /// <summary>The message types consumed for <paramref name="jobId"/> (empty when none reached this worker).</summary>
    public IReadOnlyCollection<string> For(Guid jobId) => _byJob.TryGetValue(jobId, out var kinds) ? [.. kinds] : [];

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (context.Message switch
            {
                SubmitJob m => m.JobId,
                CancelJob m => m.JobId,
                GetJobStatus m => m.JobId,
                _ => (Guid?)null,
            } is { } jobId)
        {
            _byJob.GetOrAdd(jobId, _ => []).Add(typeof(T).Name);
        }

        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
