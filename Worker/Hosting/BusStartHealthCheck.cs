using JobWorker.Messaging;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>
/// Readiness while the process starts: not ready until the bus has started, with the broker it waits for and why. Once
/// started, MassTransit's own check reports the connection.
/// </summary>
internal sealed class BusStartHealthCheck(BusStartState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.Started ? HealthCheckResult.Healthy("The bus started.") : HealthCheckResult.Unhealthy(state.Waiting));
}
