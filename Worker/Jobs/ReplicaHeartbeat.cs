using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Writes this replica's row in the <c>workers</c> table every <see cref="Interval"/> (slots in use, last progress),
/// and marks it stopped on a clean shutdown, so operators see which replicas are alive and how busy each is. One
/// short statement per beat; it also forgets replicas not seen for a day. Nothing in the job lifecycle reads it: a
/// missed beat only makes a replica look quiet on the dashboard.
/// </summary>
internal sealed partial class ReplicaHeartbeat(
    IDbContextFactory<JobDbContext> contexts, JobSlots slots, WorkerIdentity worker, IOptions<JobOptions> options, ILogger<ReplicaHeartbeat> logger)
    : BackgroundService
{
    /// <summary>How often a replica reports; a replica not seen for three beats shows as gone.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private int _failures;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            await BeatAsync(stopped: false, stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await BeatAsync(stopped: true, cancellationToken);
    }

    internal async Task BeatAsync(bool stopped, CancellationToken cancellationToken)
    {
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(Interval);
            var sinceProgress = slots.SinceLastProgress;
            await using var db = await contexts.CreateDbContextAsync(bound.Token);
            await db.Database.ExecuteSqlAsync($"""
                /* jobworker:heartbeat */
                WITH forgotten AS (DELETE FROM workers WHERE last_seen_at < now() - interval '1 day')
                INSERT INTO workers (id, queue, slots, busy, started_at, last_seen_at, last_progress_at, stopped_at)
                VALUES ({worker.Id}, {options.Value.QueueName}, {slots.Capacity}, {slots.Busy}, now(), now(), now() - {sinceProgress},
                        CASE WHEN {stopped} THEN now() END)
                ON CONFLICT (id) DO UPDATE
                SET busy = EXCLUDED.busy, last_seen_at = now(), last_progress_at = EXCLUDED.last_progress_at, stopped_at = EXCLUDED.stopped_at
                """, bound.Token);
            _failures = 0;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The database is away or slow: the circuit and the health checks say so; one line per outage is enough.
            if (_failures++ == 0)
            {
                LogBeatFailed(logger, Resilience.DatabaseErrors.Describe(e));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write this replica's heartbeat ({Reason}); the dashboard shows it as quiet until the next one")]
    private static partial void LogBeatFailed(ILogger logger, string reason);
}
