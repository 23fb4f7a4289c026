using JobWorker.Jobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>Readiness: the dispatcher's last complete tick (recovery, dispatch, event sweep) is recent.</summary>
internal sealed class DispatcherHealthCheck(JobDispatcher dispatcher) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var since = dispatcher.SinceLastTick;
        var data = new Dictionary<string, object> { ["lastTickSecondsAgo"] = since?.TotalSeconds ?? -1 };
        return Task.FromResult(since is { } ago && ago <= dispatcher.TickBound
            ? HealthCheckResult.Healthy($"Last tick {ago.TotalSeconds:F1} s ago.", data)
            : HealthCheckResult.Unhealthy(since is null ? "The dispatcher has not completed a tick yet." : $"The dispatcher's last complete tick was {since.Value.TotalSeconds:F0} s ago.", data: data));
    }
}
