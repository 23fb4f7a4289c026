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
    /// paging, so a page deep in a million rows costs what the first does. Without a state in the filter, the page is
    /// the newest of each state's own newest, one index range per state (a UNION ALL of five short scans of
    /// ix_jobs_state_created_at): every transition changes a job's state, so each index on the table costs every
    /// transition a write, and this spares the table one more.
    /// </summary>
    /// <param name="order">Newest first, or due soonest first (Pending jobs only; the cursor is then the due time and id).</param>
    public async Task<List<JobSummary>> ListAsync(
        JobFilter filter, JobCursor? before, int limit, CancellationToken cancellationToken, JobOrder order = JobOrder.Newest)
    {
        if (order == JobOrder.DueSoonest)
        {
            return await ListDueAsync(filter, before, limit, cancellationToken);
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        IQueryable<Job> Page(JobState state)
        {
            var jobs = filter.Apply(db.Jobs.AsNoTracking().Where(j => j.State == state));
            if (before is { } cursor)
            {
                jobs = jobs.Where(j => EF.Functions.LessThan(ValueTuple.Create(j.CreatedAt, j.Id), ValueTuple.Create(cursor.At, cursor.Id)));
            }

            return jobs.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Take(limit);
        }

        var states = Enum.GetValues<JobState>().Where(filter.CanMatch).ToList();
        if (states.Count == 0)
        {
            return [];
        }

        var page = states.Skip(1).Aggregate(Page(states[0]), (union, state) => union.Concat(Page(state)));
        return await page
            .TagWith("jobworker:list-jobs")
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Take(limit)
            .Select(j => new JobSummary(
                j.Id, j.Type, j.Queue, j.State, j.Attempt, j.MaxAttempts, j.Owner,
                j.Error == null ? null : j.Error.Substring(0, ErrorPreviewLength),
                j.CreatedAt, j.RunAt, j.StartedAt, j.FinishedAt)
            {
                Priority = j.Priority,
                Progress = j.ProgressUpdatedAt == null ? null : new JobProgress(j.ProgressCompleted ?? 0, j.ProgressTotal, j.ProgressMessage),
            })
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// A page of Pending jobs due soonest first (run_at, then id), after <paramref name="after"/> when given: scheduled jobs
    /// and retries waiting out their backoff show when they run. Pending is the backlog, never the history, so the range is small.
    /// </summary>
    private async Task<List<JobSummary>> ListDueAsync(JobFilter filter, JobCursor? after, int limit, CancellationToken cancellationToken)
    {
        if (!filter.CanMatch(JobState.Pending))
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var jobs = filter.Apply(db.Jobs.AsNoTracking().Where(j => j.State == JobState.Pending));
        if (after is { } cursor)
        {
            jobs = jobs.Where(j => EF.Functions.GreaterThan(ValueTuple.Create(j.RunAt, j.Id), ValueTuple.Create(cursor.At, cursor.Id)));
        }

        return await jobs
            .TagWith("jobworker:list-jobs-due")
            .OrderBy(j => j.RunAt).ThenBy(j => j.Id)
            .Take(limit)
            .Select(j => new JobSummary(
                j.Id, j.Type, j.Queue, j.State, j.Attempt, j.MaxAttempts, j.Owner,
                j.Error == null ? null : j.Error.Substring(0, ErrorPreviewLength),
                j.CreatedAt, j.RunAt, j.StartedAt, j.FinishedAt)
            {
                Priority = j.Priority,
                Progress = j.ProgressUpdatedAt == null ? null : new JobProgress(j.ProgressCompleted ?? 0, j.ProgressTotal, j.ProgressMessage),
            })
            .ToListAsync(cancellationToken);
    }

    public async Task<Job?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().TagWith("jobworker:find-job").SingleOrDefaultAsync(j => j.Id == id, cancellationToken);
    }

    /// <summary>The continuations that wait, or waited, for job <paramref name="id"/>, oldest first, at most <paramref name="limit"/> (read through ix_job_parents_parent_id).</summary>
    public async Task<List<JobRelative>> ContinuationsAsync(Guid id, int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await (
                from p in db.Parents.AsNoTracking()
                where p.ParentId == id
                join j in db.Jobs on p.JobId equals j.Id
                orderby j.CreatedAt, j.Id
                select new JobRelative(j.Id, j.State))
            .Take(limit)
            .TagWith("jobworker:job-continuations")
            .ToListAsync(cancellationToken);
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

    /// <summary>
    /// How many jobs are in each state; every state is present. Succeeded counts only the jobs that finished within
    /// <paramref name="succeededWithin"/>: the one state that grows without end is counted over a window, so the
    /// count reads a bounded range of the finished-at index, whatever the table's size. One statement, each count from
    /// an index alone.
    /// </summary>
    public async Task<Dictionary<JobState, long>> CountByStateAsync(TimeSpan succeededWithin, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var counts = await db.Database.SqlQuery<StateCounts>($"""
            /* jobworker:count-by-state */
            SELECT (SELECT count(*) FROM jobs WHERE state = 'Awaiting') AS "Awaiting",
                   (SELECT count(*) FROM jobs WHERE state = 'Pending') AS "Pending",
                   (SELECT count(*) FROM jobs WHERE state = 'Running') AS "Running",
                   (SELECT count(*) FROM jobs WHERE finished_at >= now() - {succeededWithin} AND state = 'Succeeded') AS "Succeeded",
                   (SELECT count(*) FROM jobs WHERE state = 'Failed') AS "Failed",
                   (SELECT count(*) FROM jobs WHERE state = 'Cancelled') AS "Cancelled"
            """).SingleAsync(cancellationToken);
        return new()
        {
            [JobState.Awaiting] = counts.Awaiting,
            [JobState.Pending] = counts.Pending,
            [JobState.Running] = counts.Running,
            [JobState.Succeeded] = counts.Succeeded,
            [JobState.Failed] = counts.Failed,
            [JobState.Cancelled] = counts.Cancelled,
        };
    }

    /// <summary>
    /// Jobs that finished Succeeded or Failed in each minute of the last <paramref name="window"/>, oldest first,
    /// every minute present (zeros included), by the database's clock. The window's rows are read once, from the
    /// finished-at index, then bucketed.
    /// </summary>
    public async Task<List<MinuteCount>> FinishedPerMinuteAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Database.SqlQuery<MinuteCount>($"""
            /* jobworker:finished-per-minute */
            WITH finished AS (
                SELECT date_trunc('minute', finished_at) AS minute,
                       count(*) FILTER (WHERE state = 'Succeeded') AS succeeded,
                       count(*) FILTER (WHERE state = 'Failed') AS failed
                FROM jobs
                WHERE finished_at >= date_trunc('minute', now()) - {window} AND state IN ('Succeeded', 'Failed')
                GROUP BY 1
            )
            SELECT m.minute AS "Minute", coalesce(f.succeeded, 0) AS "Succeeded", coalesce(f.failed, 0) AS "Failed"
            FROM generate_series(date_trunc('minute', now()) - {window}, date_trunc('minute', now()), interval '1 minute') AS m(minute)
            LEFT JOIN finished f ON f.minute = m.minute
            ORDER BY m.minute
            """).ToListAsync(cancellationToken);
    }

    /// <summary>Scheduled jobs (Pending, not yet due), soonest first.</summary>
    public async Task<List<JobSummary>> DueSoonAsync(int limit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().TagWith("jobworker:due-soon")
            // A job is sent only once due, so every scheduled one is unsent: saying so lets this read the dispatcher's
            // index of unsent jobs (ix_jobs_unsent_queue_priority_run_at) instead of the jobs already sent and waiting.
            .Where(j => j.State == JobState.Pending && j.DispatchedAt == null && j.RunAt > DateTime.UtcNow)
            .OrderBy(j => j.RunAt)
            .Take(limit)
            .Select(j => new JobSummary(
                j.Id, j.Type, j.Queue, j.State, j.Attempt, j.MaxAttempts, j.Owner, null, j.CreatedAt, j.RunAt, j.StartedAt, j.FinishedAt) { Priority = j.Priority })
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

/// <summary>
/// Where a page of a jobs list ended: the next page starts after it. <see cref="At"/> is the time the list is ordered by:
/// created (newest first) or due (soonest first).
/// </summary>
internal readonly record struct JobCursor(DateTime At, Guid Id)
{
    public override string ToString() => $"{At.Ticks}_{Id:N}";

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

    /// <summary>The handler's last progress report, written about once a second while it runs; null when it made none.</summary>
    public JobProgress? Progress { get; init; }

    /// <summary>Where a page ending with this job ended, in <paramref name="order"/>.</summary>
    public JobCursor CursorIn(JobOrder order) => order == JobOrder.DueSoonest ? new(RunAt, Id) : Cursor;

    /// <summary>0 to 9, higher first.</summary>
    public int Priority { get; init; }
}

internal sealed class StateCounts
{
    public long Awaiting { get; set; }
    public long Pending { get; set; }
    public long Running { get; set; }
    public long Succeeded { get; set; }
    public long Failed { get; set; }
    public long Cancelled { get; set; }
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
