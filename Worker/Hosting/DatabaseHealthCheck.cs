using JobWorker.Persistence;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>Readiness: the database answers a <c>SELECT 1</c> within two seconds.</summary>
internal sealed class DatabaseHealthCheck(JobDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await using var command = database.DataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy("PostgreSQL answers.");
        }
        catch (Exception e) when (e is not OperationCanceledException || timeout.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL does not answer: {Resilience.DatabaseErrors.Describe(e)}");
        }
    }
}
