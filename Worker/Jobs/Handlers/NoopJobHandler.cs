using System.Text.Json;

namespace JobWorker.Jobs.Handlers;

/// <summary>Does nothing and returns no result: measures the worker's own overhead per job.</summary>
internal sealed class NoopJobHandler : IJobHandler
{
    public const string JobType = "noop";

    public Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken) => Task.FromResult<JsonElement?>(null);
}
