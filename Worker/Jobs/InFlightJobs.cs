using System.Collections.Concurrent;

namespace JobWorker.Jobs;

/// <summary>
/// The jobs this process is working on right now: recognises a duplicate delivery inside one process, and lets
/// a CancelJob reach the handler of a job running here.
/// </summary>
public sealed class InFlightJobs
{
    private readonly ConcurrentDictionary<Guid, InFlightJob> _jobs = new();

    public int Count => _jobs.Count;

    /// <summary>Marks <paramref name="jobId"/> as in flight; null when this process already works on it.</summary>
    public InFlightJob? TryBegin(Guid jobId)
    {
        var job = new InFlightJob();
        if (_jobs.TryAdd(jobId, job))
        {
            return job;
        }

        job.Dispose();
        return null;
    }

    public void End(Guid jobId)
    {
        if (_jobs.TryRemove(jobId, out var job))
        {
            job.Dispose();
        }
    }

    /// <summary>Completes when this process no longer works on <paramref name="jobId"/> (at once if it does not).</summary>
    public Task WaitForEndAsync(Guid jobId, CancellationToken cancellationToken) =>
        _jobs.TryGetValue(jobId, out var job) ? job.Ended.WaitAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>Cancels the job if it is in flight here; false when it is not.</summary>
    public bool TryCancel(Guid jobId, string reason) => _jobs.TryGetValue(jobId, out var job) && job.Cancel(reason);
}

/// <summary>One job in flight in this process, and its cancellation by CancelJob.</summary>
public sealed class InFlightJob : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CancellationToken Cancelled => _cancellation.Token;

    public string? CancelReason { get; private set; }

    internal Task Ended => _ended.Task;

    internal bool Cancel(string reason)
    {
        CancelReason ??= reason;
        try
        {
            _cancellation.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false; // it finished as we asked
        }
    }

    public void Dispose()
    {
        _ended.TrySetResult();
        _cancellation.Dispose();
    }
}
