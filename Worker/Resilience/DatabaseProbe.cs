using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Resilience;

/// <summary>
/// While consumption is paused no job touches the database, so nothing would ever test it again. This probes
/// it through the same pipeline (a <c>SELECT 1</c>, retried through the open breaker) until it answers,
/// which closes the breaker and resumes consumption.
/// </summary>
public sealed class DatabaseProbe(ConsumptionPause pause, TransitionResilience resilience, IDbContextFactory<JobDbContext> contexts) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await pause.WaitUntilPausedAsync(stoppingToken);
            await resilience.ExecuteAsync("probe", PingAsync, stoppingToken);
            await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken); // let the breaker's OnClosed resume first
        }
    }

    private async Task<int> PingAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Database.SqlQuery<int>($"SELECT 1 AS \"Value\"").SingleAsync(cancellationToken);
    }
}
