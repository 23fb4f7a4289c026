using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Resilience;

/// <summary>
/// While the circuit is open, consumption is paused and few transitions touch the database, so nothing might test it
/// again soon. This probes it through the same pipeline (a <c>SELECT 1</c>, retried through the open breaker) until
/// it answers, which closes the breaker, and so resumes consumption.
/// </summary>
internal sealed class DatabaseProbe(DatabaseCircuit circuit, TransitionResilience resilience, IDbContextFactory<JobDbContext> contexts) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await circuit.WaitUntilOpenAsync(stoppingToken);
            await resilience.ExecuteAsync("probe", PingAsync, stoppingToken);
            await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken); // let the breaker's OnClosed land first
        }
    }

    private async Task<int> PingAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Database.SqlQuery<int>($"SELECT 1 AS \"Value\"").SingleAsync(cancellationToken);
    }
}
