using JobWorker.Messaging;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>Readiness: the job endpoints consume (not paused by the database circuit, not draining).</summary>
internal sealed class ConsumptionHealthCheck(ConsumptionControl consumption) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(consumption.ShouldConsume && consumption.IsConsuming
            ? HealthCheckResult.Healthy("Consuming.")
            : HealthCheckResult.Unhealthy($"Consumption is {consumption.State}."));
}
