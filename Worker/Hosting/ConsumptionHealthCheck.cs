using JobWorker.Resilience;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>Readiness: consumption is not paused by the database circuit breaker.</summary>
public sealed class ConsumptionHealthCheck(ConsumptionPause pause) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(pause.IsPaused
            ? HealthCheckResult.Unhealthy("Consumption is paused: the database circuit is open.")
            : HealthCheckResult.Healthy("Consuming."));
}
