using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;

namespace JobWorker.Jobs;

/// <summary>
/// The job state machine's writes. Each transition creates a DbContext, makes one guarded write
/// (insert if absent, or update WHERE state and attempt are as expected) and disposes the context
/// before returning, so no connection is held between transitions or while a handler runs.
/// </summary>
/// <remarks>
/// Every transition runs in <see cref="TransitionResilience"/>: transient errors are retried, broken pools reset.
/// Times come from the database's clock (<c>now()</c>), so leases compare correctly across replicas.
/// </remarks>
public sealed class JobStore(IDbContextFactory<JobDbContext> contexts, TransitionResilience resilience)
{
    /// <summary>Absent → Pending. Idempotent on the job id: returns false when the row already existed.</summary>
    public Task<bool> AcceptAsync(NewJob job, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("accept", ct => InsertIfAbsentAsync(job, ct), cancellationToken, job.Id);

    private async Task<bool> InsertIfAbsentAsync(NewJob job, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, timeout, correlation_id, created_at, updated_at)
            VALUES ({job.Id}, {job.Type}, {job.PayloadJson}::jsonb, 'Pending', 0, {job.MaxAttempts}, {job.Timeout}, {job.CorrelationId}, now(), now())
            ON CONFLICT (id) DO NOTHING
            """, cancellationToken);
        return inserted == 1;
    }

    /// <summary>
    /// Pending → Running with attempt + 1 and <paramref name="owner"/> recorded. A Running job whose lease
    /// has expired (its worker died) is taken over the same way; so is one that <paramref name="owner"/>
    /// itself holds but is no longer running. Returns the claimed row, or null when the job is not claimable.
    /// </summary>
    public Task<Job?> ClaimAsync(Guid id, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("claim", ct => ClaimOnceAsync(id, owner, lease, ct), cancellationToken, id);

    private async Task<Job?> ClaimOnceAsync(Guid id, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var claimed = await db.Jobs.FromSql($"""
            UPDATE jobs
            SET state = 'Running', attempt = attempt + 1, owner = {owner}, lease_expires_at = now() + {lease},
                started_at = now(), finished_at = NULL, updated_at = now()
            WHERE id = {id} AND attempt < max_attempts
              AND (state = 'Pending' OR (state = 'Running' AND (lease_expires_at < now() OR owner = {owner})))
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
        return claimed.SingleOrDefault();
    }

    /// <summary>Running (this attempt) → Succeeded with its result.</summary>
    public Task<TransitionResult> SucceedAsync(Guid id, int attempt, string? resultJson, CancellationToken cancellationToken) =>
        UpdateAsync(id, JobState.Running, attempt, JobState.Succeeded, cancellationToken, s =>
        {
            s.SetProperty(j => j.State, JobState.Succeeded);
            s.SetProperty(j => j.Result, resultJson);
            s.SetProperty(j => j.Error, (string?)null);
            s.SetProperty(j => j.LeaseExpiresAt, (DateTime?)null);
            s.SetProperty(j => j.FinishedAt, DateTime.UtcNow);
            s.SetProperty(j => j.UpdatedAt, DateTime.UtcNow);
        });

    /// <summary>
    /// Running (this attempt) → Failed with its error, or back to Pending when another attempt will follow
    /// (the retried transition). The error is kept either way.
    /// </summary>
    public Task<TransitionResult> FailAsync(Guid id, int attempt, string error, bool willRetry, CancellationToken cancellationToken) =>
        UpdateAsync(id, JobState.Running, attempt, willRetry ? JobState.Pending : JobState.Failed, cancellationToken, s =>
        {
            s.SetProperty(j => j.State, willRetry ? JobState.Pending : JobState.Failed);
            s.SetProperty(j => j.Error, error);
            if (willRetry)
            {
                s.SetProperty(j => j.Owner, (string?)null);
            }

            s.SetProperty(j => j.LeaseExpiresAt, (DateTime?)null);
            s.SetProperty(j => j.FinishedAt, willRetry ? null : DateTime.UtcNow);
            s.SetProperty(j => j.UpdatedAt, DateTime.UtcNow);
        });

    /// <summary>
    /// Running (this attempt) → Pending without an error: the worker is stopping and the message goes back to the
    /// queue. The attempt number stays (it fences late writes), but the interrupted attempt does not use up the
    /// job's budget: MaxAttempts grows by one, so rolling deploys never fail a healthy job.
    /// </summary>
    public Task<TransitionResult> ReleaseAsync(Guid id, int attempt, CancellationToken cancellationToken) =>
        UpdateAsync(id, JobState.Running, attempt, JobState.Pending, cancellationToken, s =>
        {
            s.SetProperty(j => j.State, JobState.Pending);
            s.SetProperty(j => j.MaxAttempts, j => j.MaxAttempts + 1);
            s.SetProperty(j => j.Owner, (string?)null);
            s.SetProperty(j => j.LeaseExpiresAt, (DateTime?)null);
            s.SetProperty(j => j.UpdatedAt, DateTime.UtcNow);
        });

    /// <summary>
    /// A job that can never run (unknown type, exhausted attempts) → Failed. Guarded by the state and
    /// attempt the caller saw, so a job another worker has moved on is left alone.
    /// </summary>
    public Task<TransitionResult> RejectAsync(Guid id, JobState expected, int attempt, string error, CancellationToken cancellationToken) =>
        UpdateAsync(id, expected, attempt, JobState.Failed, cancellationToken, s =>
        {
            s.SetProperty(j => j.State, JobState.Failed);
            s.SetProperty(j => j.Error, error);
            s.SetProperty(j => j.LeaseExpiresAt, (DateTime?)null);
            s.SetProperty(j => j.FinishedAt, DateTime.UtcNow);
            s.SetProperty(j => j.UpdatedAt, DateTime.UtcNow);
        });

    /// <summary>
    /// Cancels a job that is not running anywhere: Pending (or Running under a lapsed lease) → Cancelled.
    /// When the job is unknown yet, a Cancelled tombstone is stored, so the SubmitJob that arrives later never runs.
    /// Returns the attempt it was cancelled at, or null when the job is running or finished and was left alone.
    /// </summary>
    public Task<int?> CancelAsync(Guid id, string reason, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("cancel", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var cancelled = await db.Database.SqlQuery<int>($"""
                INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, error, created_at, finished_at, updated_at)
                VALUES ({id}, '(not yet submitted)', 'null'::jsonb, 'Cancelled', 0, 1, {reason}, now(), now(), now())
                ON CONFLICT (id) DO UPDATE
                SET state = 'Cancelled', error = EXCLUDED.error, owner = NULL, lease_expires_at = NULL,
                    finished_at = now(), updated_at = now()
                WHERE jobs.state = 'Pending' OR (jobs.state = 'Running' AND jobs.lease_expires_at < now())
                RETURNING attempt AS "Value"
                """).ToListAsync(ct);
            return cancelled.Count == 1 ? cancelled[0] : (int?)null;
        }, cancellationToken);

    /// <summary>
    /// A submission whose body could not be read, but whose job id could: Failed with the reason. Stores a Failed
    /// row when the job is unknown, fails it when still Pending, and leaves a job that is further along alone.
    /// </summary>
    public Task<bool> RejectUnreadableAsync(Guid id, string error, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("reject-unreadable", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, error, created_at, finished_at, updated_at)
                VALUES ({id}, '(unreadable)', 'null'::jsonb, 'Failed', 0, 1, {error}, now(), now(), now())
                ON CONFLICT (id) DO UPDATE
                SET state = 'Failed', error = EXCLUDED.error, finished_at = now(), updated_at = now()
                WHERE jobs.state = 'Pending'
                """, ct);
            return written == 1;
        }, cancellationToken);

    /// <summary>Running (this attempt) → Cancelled: its handler stopped because of a CancelJob.</summary>
    public Task<TransitionResult> CancelRunningAsync(Guid id, int attempt, string reason, CancellationToken cancellationToken) =>
        UpdateAsync(id, JobState.Running, attempt, JobState.Cancelled, cancellationToken, s =>
        {
            s.SetProperty(j => j.State, JobState.Cancelled);
            s.SetProperty(j => j.Error, reason);
            s.SetProperty(j => j.LeaseExpiresAt, (DateTime?)null);
            s.SetProperty(j => j.FinishedAt, DateTime.UtcNow);
            s.SetProperty(j => j.UpdatedAt, DateTime.UtcNow);
        });

    /// <summary>Extends the lease of every job <paramref name="owner"/> is running. One statement per replica, not per job.</summary>
    public Task<int> RenewLeasesAsync(string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("renew-leases", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.ExecuteSqlAsync(
                $"UPDATE jobs SET lease_expires_at = now() + {lease} WHERE owner = {owner} AND state = 'Running'", ct);
        }, cancellationToken);

    public Task<Job?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("find", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, ct);
        }, cancellationToken);

    /// <summary>The newest jobs, optionally only those in <paramref name="state"/> and of <paramref name="type"/>.</summary>
    public Task<List<Job>> ListAsync(JobState? state, string? type, int limit, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("list", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var jobs = db.Jobs.AsNoTracking();
            if (state is { } wanted)
            {
                jobs = jobs.Where(j => j.State == wanted);
            }

            if (type is not null)
            {
                jobs = jobs.Where(j => j.Type == type);
            }

            return await jobs.OrderByDescending(j => j.UpdatedAt).Take(limit).ToListAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// Failed → Pending with <paramref name="extraAttempts"/> more attempts, for one job or (with no id) every
    /// failed one. Returns the jobs to send again; the caller resubmits their messages.
    /// </summary>
    public Task<List<Job>> RequeueFailedAsync(Guid? id, int extraAttempts, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("requeue-failed", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Jobs.FromSql($"""
                UPDATE jobs
                SET state = 'Pending', max_attempts = attempt + {extraAttempts}, error = NULL, owner = NULL,
                    lease_expires_at = NULL, finished_at = NULL, updated_at = now()
                WHERE state = 'Failed' AND ({id}::uuid IS NULL OR id = {id}::uuid)
                RETURNING *
                """).AsNoTracking().ToListAsync(ct);
        }, cancellationToken);

    /// <summary>Deletes finished jobs (Succeeded, Failed, Cancelled) that finished more than <paramref name="olderThan"/> ago.</summary>
    public Task<int> PurgeFinishedAsync(TimeSpan olderThan, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("purge", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.ExecuteSqlAsync($"""
                DELETE FROM jobs
                WHERE state IN ('Succeeded', 'Failed', 'Cancelled') AND finished_at < now() - {olderThan}
                """, ct);
        }, cancellationToken);

    /// <summary>How many of <paramref name="ids"/> are in each state; ids not yet accepted are absent from the counts.</summary>
    public Task<Dictionary<JobState, int>> CountByStateAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("count", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Jobs.AsNoTracking()
                .Where(j => ids.Contains(j.Id))
                .GroupBy(j => j.State)
                .Select(g => new { State = g.Key, Count = g.Count() })
                .ToDictionaryAsync(g => g.State, g => g.Count, ct);
        }, cancellationToken);

    private Task<TransitionResult> UpdateAsync(
        Guid id, JobState expected, int attempt, JobState target, CancellationToken cancellationToken,
        Action<UpdateSettersBuilder<Job>> set) =>
        resilience.ExecuteAsync($"{expected.ToString().ToLowerInvariant()}-to-{target.ToString().ToLowerInvariant()}", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var updated = await db.Jobs
                .Where(j => j.Id == id && j.State == expected && j.Attempt == attempt)
                .ExecuteUpdateAsync(set, ct);
            if (updated == 1)
            {
                return TransitionResult.Done;
            }

            // Rare path: say what was found instead, so the caller can report it; nothing is overwritten.
            // A retry whose first try committed but lost its reply finds its own write there: that is success.
            var found = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, ct);
            return found is not null && found.State == target && found.Attempt == attempt
                ? TransitionResult.Done
                : new TransitionResult(false, found);
        }, cancellationToken, id);
}
