using System.Collections.Concurrent;

namespace JobWorker.Jobs;

/// <summary>The jobs this process is working on right now, so a duplicate delivery inside one process is recognised.</summary>
public sealed class InFlightJobs
{
    private readonly ConcurrentDictionary<Guid, byte> _jobs = new();

    public int Count => _jobs.Count;

    /// <summary>Marks <paramref name="jobId"/> as in flight; false when this process already works on it.</summary>
    public bool TryBegin(Guid jobId) => _jobs.TryAdd(jobId, 0);

    public void End(Guid jobId) => _jobs.TryRemove(jobId, out _);
}
