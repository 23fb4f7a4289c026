using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;

namespace JobWorker.Jobs;

/// <summary>
/// Pausing a queue across the fleet, for the CLI's <c>queues pause|resume</c> and the dashboard's button alike. The pause
/// is a row in the ledger's <c>queues</c> table: every replica reads it each tick (<c>QueuePauseWatcher</c> in Messaging) and
/// stops taking the queue's jobs, and the claim statements refuse to start one while it is there, so it holds without
/// any session state (PgBouncer in transaction mode) and outlives every restart until resumed.
/// </summary>
internal sealed class QueueControl(IDbContextFactory<JobDbContext> contexts)
{
    /// <summary>The longest reason kept; an operator's note, not a document.</summary>
    public const int MaxReasonLength = 500;

    /// <summary>Pauses <paramref name="queue"/>: no replica starts a new job of it until resumed; running jobs finish.</summary>
    public async Task<JobActionOutcome> PauseAsync(string queue, string pausedBy, string? reason, CancellationToken cancellationToken)
    {
        reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim()[..Math.Min(reason.Trim().Length, MaxReasonLength)];
        pausedBy = pausedBy[..Math.Min(pausedBy.Length, JobSchema.MaxOwnerLength)];
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.ExecuteAsync(JobSql.PauseQueue, (queue, pausedBy, reason), static (p, s) =>
        {
            p.AddValue(s.queue);
            p.AddValue(s.pausedBy);
            p.AddValue(s.reason);
        }, cancellationToken);
        return new(true, $"Queue {queue} is paused: no replica starts a new job of it until it is resumed; running jobs finish.");
    }

    /// <summary>Resumes <paramref name="queue"/>: the replicas take its jobs again within a tick, the backlog first.</summary>
    public async Task<JobActionOutcome> ResumeAsync(string queue, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var resumed = await db.ExecuteAsync(JobSql.ResumeQueue, queue, static (p, q) => p.AddValue(q), cancellationToken);
        return resumed > 0
            ? new(true, $"Queue {queue} is resumed: the workers take its jobs again within a tick.")
            : new(false, $"Queue {queue} is not paused: nothing to resume.");
    }

    /// <summary>The operator's pause of <paramref name="queue"/>; null when it runs.</summary>
    public async Task<QueuePause?> FindPauseAsync(string queue, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.QueryAsync(JobSql.QueuePause, queue, static (p, q) => p.AddValue(q), static r => new QueuePause(
            JobRows.Value<DateTime>(r, "paused_at"), JobRows.Text(r, "paused_by"), JobRows.Text(r, "reason")), cancellationToken);
        return rows.Count > 0 ? rows[0] : null;
    }
}
