using JobWorker.Messaging;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>
/// Readiness: the job endpoints consume (not paused by the database circuit, not draining). A queue paused by an operator
/// is Healthy, with a description that says so: pausing is the operator's choice, and an orchestrator must not restart
/// or unroute replicas for it.
/// </summary>
internal sealed class ConsumptionHealthCheck(ConsumptionControl consumption) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(!consumption.ShouldConsume || !consumption.IsConsuming
            ? HealthCheckResult.Unhealthy($"Consumption is {consumption.State}.")
            : consumption.OperatorPause is { } pause ? HealthCheckResult.Healthy($"Consumption is PAUSED ({pause.Describe()}).")
            : HealthCheckResult.Healthy("Consuming."));
}
