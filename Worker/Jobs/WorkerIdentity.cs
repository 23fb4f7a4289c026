using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// This process's name in the jobs table's owner column. Unique per process start, so a restarted replica
/// never mistakes a job its previous life claimed for one it is still running.
/// </summary>
internal sealed class WorkerIdentity(IOptions<JobOptions> options)
{
    public string Id { get; } =
        $"{(string.IsNullOrWhiteSpace(options.Value.WorkerName) ? Environment.MachineName : options.Value.WorkerName)}" +
        $"-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}
