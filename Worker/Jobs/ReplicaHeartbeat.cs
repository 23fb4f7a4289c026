using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Writes this replica's row in the <c>workers</c> table every <see cref="Interval"/> (slots in use, last progress),
/// and marks it stopped on a clean shutdown, so operators see which replicas are alive and how busy each is. One
/// short statement per beat; it also forgets replicas not seen for a day. Nothing in the job lifecycle reads it: a
/// missed beat only makes a replica look quiet on the dashboard.
/// </summary>
internal sealed class ReplicaHeartbeat(
    IDbContextFactory<JobDbContext> contexts, JobSlots slots, WorkerIdentity worker, IOptions<JobOptions> options, ILogger<ReplicaHeartbeat> logger)
    : MaintenanceService(logger)
{
    /// <summary>How often a replica reports; a replica not seen for three beats shows as gone.</summary>
    public static readonly TimeSpan BeatInterval = TimeSpan.FromSeconds(5);

    public override string Name => "heartbeat";

    /// <summary>A missed beat only makes the replica look quiet on the dashboard; readiness shows it, degraded.</summary>
    public override bool Critical => false;

    public override TimeSpan Interval => BeatInterval;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => BeatAsync(stopped: false, cancellationToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await BeatAsync(stopped: true, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The row ages out of the dashboard's view in three beats all the same.
        }
    }

    internal async Task BeatAsync(bool stopped, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(BeatInterval);
        var beat = new Beat(worker.Id, options.Value.QueueName, slots.Capacity, slots.Busy, slots.SinceLastProgress, stopped);
        await using var db = await contexts.CreateDbContextAsync(bound.Token);
        await db.ExecuteAsync(JobSql.Heartbeat, beat, static (p, b) =>
        {
            p.AddValue(b.Id);
            p.AddValue(b.Queue);
            p.AddValue(b.Slots);
            p.AddValue(b.Busy);
            p.AddValue(b.SinceProgress);
            p.AddValue(b.Stopped);
        }, bound.Token);
    }

    private sealed record Beat(string Id, string Queue, int Slots, int Busy, TimeSpan SinceProgress, bool Stopped);
}
