using JobWorker.Messaging;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>
/// Wraps a readiness check (MassTransit's bus check among them) so that a broker that cannot be reached is reported by
/// its reason only, not with the exception: the health service logs a result's exception with its full stack at every
/// probe, every few seconds for as long as the broker is away.
/// </summary>
internal sealed class BrokerReasonHealthCheck(IHealthCheck inner) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = await inner.CheckHealthAsync(context, cancellationToken);
        if (result.Exception is not { } exception || !BrokerErrors.IsUnreachable(exception))
        {
            return result;
        }

        var description = $"{result.Description} (RabbitMQ is unreachable: {BrokerErrors.Reason(exception)})";
        return new HealthCheckResult(result.Status, description, exception: null, result.Data);
    }
}
