using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;

namespace JobWorker.Jobs;

/// <summary>
/// What operators read from the ledger (the dashboard's pages, <c>jobs list</c>). Every query is one short context
/// and one statement through an index, bounded by the connection string's command timeout, and none of them takes a
/// lock a transition waits for. Reads are not retried: a page that fails says so, and the next refresh asks again.
/// </summary>
internal sealed class JobQueries(IDbContextFactory<JobDbContext> contexts)
{
    /// <summary>The longest error text a list row carries; the job's page shows all of it.</summary>
    public const int ErrorPreviewLength = 300;

    /// <summary>
    /// A page of jobs, newest first (created_at, then id), older than <paramref name="before"/> when given: keyset
    /// paging, so a page deep in a million rows costs what the first does.
    /// </summary>
    public async Task<List<JobSummary>> ListAsync(JobFilter filter, JobCursor? before, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var jobs = filter.Apply(db.Jobs.AsNoTracking().TagWith("jobworker:list-jobs"));
        if (before is { } cursor)
        {
            jobs = jobs.Where(j => EF.Functions.LessThan(ValueTuple.Create(j.CreatedAt, j.Id), ValueTuple.Create(cursor.CreatedAt, cursor.Id)));
        }

        return await jobs
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Take(limit)
            .Select(j => new JobSummary(
                j.Id, j.Type, j.Queue, j.State, j.Attempt, j.MaxAttempts, j.Owner,
                j.Error == null ? null : j.Error.Substring(0, ErrorPreviewLength),
                j.CreatedAt, j.RunAt, j.StartedAt, j.FinishedAt))
            .ToListAsync(cancellationToken);
    }

    public async Task<Job?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().TagWith("jobworker:find-job").SingleOrDefaultAsync(j => j.Id == id, cancellationToken);
    }

    /// <summary>The job's recorded events, published or not, in the order they happened: its attempts, who ran them, how each ended.</summary>
    public async Task<List<JobEvent>> HistoryAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Events.AsNoTracking().TagWith("jobworker:job-history")
            .Where(e => e.JobId == id)
            .OrderBy(e => e.OccurredAt).ThenBy(e => e.Attempt)
            .ToListAsync(cancellationToken);
    }

    /// <summary>How many jobs are in each state; every state is present.</summary>
    public async Task<Dictionary<JobState, long>> CountByStateAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var counts = await db.Jobs.AsNoTracking().TagWith("jobworker:count-by-state")
            .GroupBy(j => j.State)
            .Select(g => new { State = g.Key, Count = g.LongCount() })
            .ToDictionaryAsync(g => g.State, g => g.Count, cancellationToken);
        return Enum.GetValues<JobState>().ToDictionary(s => s, s => counts.GetValueOrDefault(s));
    }

    /// <summary>
    /// Jobs that finished Succeeded or Failed in each minute of the last <paramref name="window"/>, oldest first,
    /// every minute present (zeros included), by the database's clock.
    /// </summary>
    public async Task<List<MinuteCount>> FinishedPerMinuteAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Database.SqlQuery<MinuteCount>($"""
            /* jobworker:finished-per-minute */
            SELECT m.minute AS "Minute",
                   count(j.id) FILTER (WHERE j.state = 'Succeeded') AS "Succeeded",
                   count(j.id) FILTER (WHERE j.state = 'Failed') AS "Failed"
            FROM generate_series(date_trunc('minute', now()) - {window}, date_trunc('minute', now()), interval '1 minute') AS m(minute)
            LEFT JOIN jobs j
              ON j.finished_at >= m.minute AND j.finished_at < m.minute + interval '1 minute'
             AND j.finished_at IS NOT NULL AND j.state IN ('Succeeded', 'Failed')
            GROUP BY m.minute
            ORDER BY m.minute
            """).ToListAsync(cancellationToken);
    }

    /// <summary>Scheduled jobs (Pending, not yet due), soonest first.</summary>
    public async Task<List<JobSummary>> DueSoonAsync(int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().TagWith("jobworker:due-soon")
            .Where(j => j.State == JobState.Pending && j.RunAt > DateTime.UtcNow)
            .OrderBy(j => j.RunAt)
            .Take(limit)
            .Select(j => new JobSummary(
                j.Id, j.Type, j.Queue, j.State, j.Attempt, j.MaxAttempts, j.Owner, null, j.CreatedAt, j.RunAt, j.StartedAt, j.FinishedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The replicas whose heartbeat was seen within <paramref name="seenWithin"/>, each with the jobs the ledger says it
    /// is running, and the database's clock to age them by.
    /// </summary>
    public async Task<List<ReplicaView>> ReplicasAsync(TimeSpan seenWithin, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Database.SqlQuery<ReplicaView>($"""
            /* jobworker:replicas */
            SELECT w.id AS "Id", w.queue AS "Queue", w.slots AS "Slots", w.busy AS "Busy", w.started_at AS "StartedAt",
                   w.last_seen_at AS "LastSeenAt", w.last_progress_at AS "LastProgressAt", w.stopped_at AS "StoppedAt",
                   (SELECT count(*) FROM jobs j WHERE j.state = 'Running' AND j.owner = w.id)::int AS "Running",
                   now() AS "Now"
            FROM workers w
            WHERE w.last_seen_at > now() - {seenWithin}
            ORDER BY w.stopped_at IS NOT NULL, w.id
            """).ToListAsync(cancellationToken);
    }
}

/// <summary>Where a page of the newest-first jobs list ended: the next page starts after it.</summary>
internal readonly record struct JobCursor(DateTime CreatedAt, Guid Id)
{
    public override string ToString() => $"{CreatedAt.Ticks}_{Id:N}";

    public static bool TryParse(string? text, out JobCursor cursor)
    {
        cursor = default;
        var parts = text?.Split('_');
        if (parts is not [var ticks, var id] || !long.TryParse(ticks, out var t) || t < 0 || t > DateTime.MaxValue.Ticks || !Guid.TryParse(id, out var g))
        {
            return false;
        }

        cursor = new JobCursor(new DateTime(t, DateTimeKind.Utc), g);
        return true;
    }
}

/// <summary>A job as a list shows it: no payload or result, the error cut to <see cref="JobQueries.ErrorPreviewLength"/>.</summary>
internal sealed record JobSummary(
    Guid Id, string Type, string Queue, JobState State, int Attempt, int MaxAttempts, string? Owner, string? Error,
    DateTime CreatedAt, DateTime RunAt, DateTime? StartedAt, DateTime? FinishedAt)
{
    public JobCursor Cursor => new(CreatedAt, Id);
}

internal sealed class MinuteCount
{
    public DateTime Minute { get; set; }
    public long Succeeded { get; set; }
    public long Failed { get; set; }
}

/// <summary>A replica as its heartbeat and the ledger show it.</summary>
internal sealed class ReplicaView
{
    public string Id { get; set; } = "";
    public string Queue { get; set; } = "";
    public int Slots { get; set; }
    public int Busy { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    public DateTime? LastProgressAt { get; set; }
    public DateTime? StoppedAt { get; set; }

    /// <summary>Jobs the ledger records as Running under this replica.</summary>
    public int Running { get; set; }

    /// <summary>The database's clock when it was read.</summary>
    public DateTime Now { get; set; }
}
