using System.Diagnostics;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Jobs;

/// <summary>
/// The job ledger's writes. Each transition creates a DbContext, runs one guarded statement (insert if absent, or
/// update WHERE state and attempt are as expected) and disposes the context before returning, so no connection is
/// held between transitions or while a handler runs. A transition that has an event records it in the same
/// statement, in the <c>job_events</c> outbox, so an event is never lost and never recorded twice.
/// </summary>
/// <remarks>
/// Every transition runs in <see cref="TransitionResilience"/>: transient errors are retried, broken pools reset.
/// Every time comes from the database's clock (<c>now()</c>), so leases and due times compare correctly across
/// replicas. Each statement starts with a <c>/* jobworker:name */</c> comment, so it can be told apart in
/// pg_stat_activity and in slow-statement logs.
/// </remarks>
internal sealed class JobStore(IDbContextFactory<JobDbContext> contexts, TransitionResilience resilience, IOptions<DispatchOptions> dispatch)
{
    /// <summary>How long the writer of an event has to publish it itself before any relay may (<c>Dispatch:EventRetryAfter</c>).</summary>
    private TimeSpan RelayAfter => dispatch.Value.EventRetryAfter;

    /// <summary>The columns of a job row as <see cref="ReadJob"/> reads them.</summary>
    private const string JobColumns = """
        id, type, queue, payload::text, state, attempt, max_attempts, timeout, correlation_id, run_at, dispatched_at, cancel_reason,
        claim_token, owner, lease_expires_at, error, result::text, created_at, started_at, finished_at, updated_at
        """;

    private const string AcceptSql = """
        /* jobworker:accept */
        INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, run_at, dispatched_at, created_at, updated_at)
        SELECT $1, $2, $3, $4::jsonb, 'Pending', 0, $5, $6, $7, v.run_at, CASE WHEN v.run_at <= now() THEN now() END, now(), now()
        FROM (SELECT greatest(now(), coalesce($8::timestamptz, now() + coalesce($9::interval, interval '0'))) AS run_at) v
        ON CONFLICT (id) DO NOTHING
        RETURNING run_at <= now()
        """;

    /// <summary>
    /// Absent → Pending, due at <see cref="NewJob.RunAt"/> or after <see cref="NewJob.Delay"/> (now when neither).
    /// Idempotent on the job id: returns null when the row already existed, else whether the job is due now.
    /// </summary>
    public Task<bool?> AcceptAsync(NewJob job, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("accept", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var due = await db.QueryAsync(AcceptSql, job, static (p, job) =>
            {
                p.AddValue(job.Id);
                p.AddValue(job.Type);
                p.AddValue(job.Queue);
                p.AddValue(job.PayloadJson);
                p.AddValue(job.MaxAttempts);
                p.AddValue(job.Timeout);
                p.AddValue(job.CorrelationId);
                p.AddValue(job.RunAt);
                p.AddValue(job.Delay);
            }, static r => r.GetBoolean(0), ct);
            return due.Count == 1 ? due[0] : (bool?)null;
        }, cancellationToken, job.Id);

    private const string AcceptAndClaimSql = $"""
        /* jobworker:accept-claim */
        WITH inserted AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, owner, claim_token,
                              lease_expires_at, run_at, started_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4::jsonb, 'Running', 1, $5, $6, $7, $8, $9, now() + $10, now(), now(), now(), now())
            ON CONFLICT (id) DO NOTHING
            RETURNING {JobColumns}
        ), claimed AS (
            UPDATE jobs
            SET state = 'Running', attempt = attempt + 1, owner = $8, claim_token = $9,
                lease_expires_at = now() + $10, started_at = now(), finished_at = NULL, dispatched_at = NULL, updated_at = now()
            WHERE id = $1 AND state = 'Pending' AND run_at <= now() AND attempt < max_attempts AND NOT EXISTS (SELECT FROM inserted)
            RETURNING {JobColumns}
        ), taken AS (
            SELECT true AS accepted, * FROM inserted UNION ALL SELECT false, * FROM claimed
        ), started AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, worker_id, occurred_at, relay_after)
            SELECT id, 'Started', attempt, false, owner, started_at, now() + $11 FROM taken
        )
        SELECT * FROM taken
        UNION ALL
        SELECT false, {JobColumns} FROM jobs WHERE id = $1 AND state = 'Running' AND claim_token = $9
        """;

    /// <summary>
    /// A due job with a free slot, in one statement: absent → Running (attempt 1), or Pending and due (sent again by
    /// the dispatcher) → Running with attempt + 1; with <paramref name="owner"/>, a lease and <paramref name="token"/>,
    /// and JobStarted recorded. Returns whether the row was new, and the claimed row, or null when the job is not
    /// claimable (running elsewhere, finished, not due). A retry whose reply was lost finds its own token.
    /// </summary>
    public Task<(bool Accepted, Job? Claimed)> AcceptAndClaimAsync(NewJob job, string owner, Guid token, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("accept-claim", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.QueryAsync(AcceptAndClaimSql, (job, owner, token, lease, RelayAfter), static (p, s) =>
            {
                p.AddValue(s.job.Id);
                p.AddValue(s.job.Type);
                p.AddValue(s.job.Queue);
                p.AddValue(s.job.PayloadJson);
                p.AddValue(s.job.MaxAttempts);
                p.AddValue(s.job.Timeout);
                p.AddValue(s.job.CorrelationId);
                p.AddValue(s.owner);
                p.AddValue(s.token);
                p.AddValue(s.lease);
                p.AddValue(s.RelayAfter);
            }, static r => (Accepted: r.GetBoolean(0), Job: ReadJob(r, 1)), ct);
            return rows.Count == 0 ? (false, null) : (rows[0].Accepted, rows[0].Job);
        }, cancellationToken, job.Id);

    private const string ClaimSql = $"""
        /* jobworker:claim */
        WITH claimed AS (
            UPDATE jobs
            SET state = 'Running', attempt = attempt + 1, owner = $2, claim_token = $3,
                lease_expires_at = now() + $4, started_at = now(), finished_at = NULL, dispatched_at = NULL, updated_at = now()
            WHERE id = $1 AND state = 'Pending' AND run_at <= now() AND attempt < max_attempts
            RETURNING {JobColumns}
        ), started AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, worker_id, occurred_at, relay_after)
            SELECT id, 'Started', attempt, false, owner, started_at, now() + $5 FROM claimed
        )
        SELECT * FROM claimed
        UNION ALL
        SELECT {JobColumns} FROM jobs WHERE id = $1 AND state = 'Running' AND claim_token = $3
        """;

    /// <summary>
    /// Pending and due → Running with attempt + 1, <paramref name="owner"/>, a lease and <paramref name="token"/>;
    /// records JobStarted. Returns the claimed row, or null when the job is not claimable (running elsewhere,
    /// finished, not due, or unknown). A retry of a claim whose reply was lost finds its own token and returns that row.
    /// </summary>
    public Task<Job?> ClaimAsync(Guid id, string owner, Guid token, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("claim", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var claimed = await db.QueryAsync(ClaimSql, (id, owner, token, lease, RelayAfter), static (p, s) =>
            {
                p.AddValue(s.id);
                p.AddValue(s.owner);
                p.AddValue(s.token);
                p.AddValue(s.lease);
                p.AddValue(s.RelayAfter);
            }, static r => ReadJob(r, 0), ct);
            return claimed.Count > 0 ? claimed[0] : null;
        }, cancellationToken, id);

    private const string SucceedSql = """
        /* jobworker:succeed */
        WITH done AS (
            SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS d(id, attempt, owner, result)
        ), locked AS (
            SELECT j.id FROM jobs j JOIN done d ON d.id = j.id
            WHERE j.state = 'Running' AND j.attempt = d.attempt AND j.owner = d.owner
            ORDER BY j.id FOR UPDATE OF j
        ), t AS (
            UPDATE jobs j
            SET state = 'Succeeded', result = d.result::jsonb, error = NULL, lease_expires_at = NULL, claim_token = NULL,
                cancel_reason = NULL, finished_at = now(), updated_at = now()
            FROM locked l JOIN done d ON d.id = l.id
            WHERE j.id = l.id AND j.state = 'Running' AND j.attempt = d.attempt AND j.owner = d.owner
            RETURNING j.id, j.attempt, j.finished_at
        )
        INSERT INTO job_events (job_id, kind, attempt, will_retry, occurred_at, relay_after)
        SELECT id, 'Succeeded', attempt, false, finished_at, now() + $5 FROM t
        RETURNING job_id, occurred_at
        """;

    /// <summary>Running (this attempt, this owner) → Succeeded with its result; records JobSucceeded. Returns the event, or null when the row had moved on.</summary>
    public async Task<OutboxEvent?> SucceedAsync(Job claimed, string? resultJson, CancellationToken cancellationToken) =>
        (await SucceedAsync([new JobSuccess(claimed, resultJson)], cancellationToken))[0];

    /// <summary>
    /// Many jobs' successes in one statement (see <see cref="JobCompleter"/>), each fenced as a single one is (Running,
    /// this attempt, this owner) and locked in id order. Returns each one's event, in the order given, or null for a job
    /// whose row had moved on.
    /// </summary>
    public Task<OutboxEvent?[]> SucceedAsync(IReadOnlyList<JobSuccess> successes, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("succeed", async ct =>
        {
            var results = successes.Select(s => StoredText.CleanJson(s.ResultJson)).ToArray();
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.QueryAsync(SucceedSql, (successes, results, RelayAfter), static (p, s) =>
            {
                p.AddValue(s.successes.Select(j => j.Claimed.Id).ToArray());
                p.AddValue(s.successes.Select(j => j.Claimed.Attempt).ToArray());
                p.AddValue(s.successes.Select(j => j.Claimed.Owner).ToArray());
                p.AddValue(s.results);
                p.AddValue(s.RelayAfter);
            }, static r => (Id: r.GetGuid(0), At: r.GetDateTime(1)), ct);
            var at = written.ToDictionary(w => w.Id, w => w.At);
            var events = new OutboxEvent?[successes.Count];
            for (var i = 0; i < events.Length; i++)
            {
                var claimed = successes[i].Claimed;
                if (at.TryGetValue(claimed.Id, out var occurredAt))
                {
                    events[i] = OutboxEvent.For(claimed, JobEventKind.Succeeded, occurredAt);
                    events[i]!.Result = results[i];
                }
            }

            return events;
        }, cancellationToken, successes.Count == 1 ? successes[0].Claimed.Id : null, [.. successes.Select(s => s.Trace)]);

    /// <summary>
    /// Running (this attempt, this owner) → Failed for good with its error; a job whose cancel was requested meanwhile
    /// ends Cancelled instead. Records the matching event and returns it, or null when the row had moved on.
    /// </summary>
    public Task<OutboxEvent?> FailAsync(Job claimed, string error, CancellationToken cancellationToken) =>
        EndAttemptAsync(claimed, error, retryAfter: null, cancellationToken);

    /// <summary>
    /// Running (this attempt, this owner) → Pending, due after <paramref name="retryAfter"/>, for the next attempt: no
    /// slot and no message wait meanwhile; the dispatcher sends it when it is due. The error is kept. A job whose cancel
    /// was requested meanwhile ends Cancelled instead. Records JobFailed (WillRetry) and returns it, or null when the
    /// row had moved on.
    /// </summary>
    public Task<OutboxEvent?> RetryLaterAsync(Job claimed, string error, TimeSpan retryAfter, CancellationToken cancellationToken) =>
        EndAttemptAsync(claimed, error, retryAfter, cancellationToken);

    private Task<OutboxEvent?> EndAttemptAsync(Job claimed, string error, TimeSpan? retryAfter, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync(retryAfter is null ? "fail" : "retry-later", async ct =>
        {
            error = StoredText.Clean(error)!;
            var retry = retryAfter is not null;
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.Database.SqlQuery<WrittenEvent>($"""
                /* jobworker:fail */
                WITH t AS (
                    UPDATE jobs
                    SET state = CASE WHEN cancel_reason IS NOT NULL THEN 'Cancelled' WHEN {retry} THEN 'Pending' ELSE 'Failed' END,
                        error = coalesce(cancel_reason, {error}),
                        owner = CASE WHEN {retry} AND cancel_reason IS NULL THEN NULL ELSE owner END,
                        run_at = now() + coalesce({retryAfter}::interval, interval '0'), dispatched_at = NULL,
                        lease_expires_at = NULL, claim_token = NULL,
                        finished_at = CASE WHEN {retry} AND cancel_reason IS NULL THEN NULL ELSE now() END, updated_at = now()
                    WHERE id = {claimed.Id} AND state = 'Running' AND attempt = {claimed.Attempt} AND owner = {claimed.Owner}
                    RETURNING id, attempt, state, error, updated_at
                )
                INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
                SELECT id, CASE state WHEN 'Cancelled' THEN 'Cancelled' ELSE 'Failed' END, attempt, state = 'Pending', error, updated_at, now() + {RelayAfter}
                FROM t
                RETURNING kind AS "Kind", will_retry AS "WillRetry", error AS "Error", occurred_at AS "OccurredAt"
                """).ToListAsync(ct);
            return written.Count == 0 ? null : written[0].For(claimed);
        }, cancellationToken, claimed.Id);

    /// <summary>
    /// Running (this attempt, this owner) → Pending, due now and with no message queued: the worker is stopping or
    /// lost the job's lease. The attempt number stays (it fences late writes), but the interrupted attempt does not
    /// use up the job's budget: MaxAttempts grows by one, so rolling deploys never fail a healthy job. A job whose
    /// cancel was requested ends Cancelled instead (and that event is returned). Returns the state written, or null
    /// when the row had moved on.
    /// </summary>
    public Task<(JobState State, OutboxEvent? Event)?> ReleaseAsync(Job claimed, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync<(JobState, OutboxEvent?)?>("release", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var released = await db.Database.SqlQuery<WrittenEvent>($"""
                /* jobworker:release */
                WITH t AS (
                    UPDATE jobs
                    SET state = CASE WHEN cancel_reason IS NULL THEN 'Pending' ELSE 'Cancelled' END,
                        error = coalesce(cancel_reason, error),
                        max_attempts = CASE WHEN cancel_reason IS NULL THEN max_attempts + 1 ELSE max_attempts END,
                        owner = CASE WHEN cancel_reason IS NULL THEN NULL ELSE owner END,
                        run_at = now(), dispatched_at = NULL, lease_expires_at = NULL, claim_token = NULL,
                        finished_at = CASE WHEN cancel_reason IS NULL THEN NULL ELSE now() END, updated_at = now()
                    WHERE id = {claimed.Id} AND state = 'Running' AND attempt = {claimed.Attempt} AND owner = {claimed.Owner}
                    RETURNING id, attempt, state, error, updated_at
                ), cancelled AS (
                    INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
                    SELECT id, 'Cancelled', attempt, false, error, updated_at, now() + {RelayAfter} FROM t WHERE state = 'Cancelled'
                )
                SELECT state AS "Kind", false AS "WillRetry", error AS "Error", updated_at AS "OccurredAt" FROM t
                """).ToListAsync(ct);
            if (released.Count == 0)
            {
                return null;
            }

            var state = Enum.Parse<JobState>(released[0].Kind);
            return (state, state == JobState.Cancelled ? released[0].For(claimed) : null);
        }, cancellationToken, claimed.Id);

    /// <summary>Running (this attempt, this owner) → Cancelled: its handler stopped because of a CancelJob. Records JobCancelled.</summary>
    public Task<OutboxEvent?> CancelRunningAsync(Job claimed, string reason, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("cancel-running", async ct =>
        {
            reason = StoredText.Clean(reason)!;
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.Database.SqlQuery<WrittenEvent>($"""
                /* jobworker:cancel-running */
                WITH t AS (
                    UPDATE jobs
                    SET state = 'Cancelled', error = coalesce(cancel_reason, {reason}), lease_expires_at = NULL, claim_token = NULL,
                        finished_at = now(), updated_at = now()
                    WHERE id = {claimed.Id} AND state = 'Running' AND attempt = {claimed.Attempt} AND owner = {claimed.Owner}
                    RETURNING id, attempt, error, finished_at
                )
                INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
                SELECT id, 'Cancelled', attempt, false, error, finished_at, now() + {RelayAfter} FROM t
                RETURNING kind AS "Kind", will_retry AS "WillRetry", error AS "Error", occurred_at AS "OccurredAt"
                """).ToListAsync(ct);
            return written.Count == 0 ? null : written[0].For(claimed);
        }, cancellationToken, claimed.Id);

    /// <summary>
    /// A CancelJob. A Pending job (due or scheduled) → Cancelled, and an unknown one gets a Cancelled tombstone, so
    /// the SubmitJob that arrives later never runs; either way JobCancelled is recorded. A Running job gets the
    /// request recorded: its owner stops it, or recovery ends it Cancelled if the owner is gone. A finished job is
    /// left alone. Returns the state the job is in afterwards, or null when it was already finished.
    /// </summary>
    public Task<JobState?> RequestCancelAsync(Guid id, string reason, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync<JobState?>("request-cancel", async ct =>
        {
            reason = StoredText.Clean(reason)!;
            await using var db = await contexts.CreateDbContextAsync(ct);
            var states = await db.Database.SqlQuery<string>($"""
                /* jobworker:request-cancel */
                WITH t AS (
                    INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, error, run_at, created_at, finished_at, updated_at)
                    VALUES ({id}, '(not yet submitted)', 'null'::jsonb, 'Cancelled', 0, 1, {reason}, now(), now(), now(), now())
                    ON CONFLICT (id) DO UPDATE
                    SET state = CASE WHEN jobs.state = 'Pending' THEN 'Cancelled' ELSE jobs.state END,
                        error = CASE WHEN jobs.state = 'Pending' THEN EXCLUDED.error ELSE jobs.error END,
                        cancel_reason = CASE WHEN jobs.state = 'Running' THEN coalesce(jobs.cancel_reason, EXCLUDED.error) END,
                        dispatched_at = CASE WHEN jobs.state = 'Pending' THEN NULL ELSE jobs.dispatched_at END,
                        finished_at = CASE WHEN jobs.state = 'Pending' THEN now() END, updated_at = now()
                    WHERE jobs.state IN ('Pending', 'Running')
                    RETURNING id, state, attempt, error, updated_at
                ), cancelled AS (
                    INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
                    SELECT id, 'Cancelled', attempt, false, error, updated_at, now() FROM t WHERE state = 'Cancelled'
                )
                SELECT state AS "Value" FROM t
                """).ToListAsync(ct);
            return states.Count == 0 ? null : Enum.Parse<JobState>(states[0]);
        }, cancellationToken, id);

    /// <summary>
    /// Extends the leases of <paramref name="ids"/>, the jobs <paramref name="owner"/> is running right now, in one
    /// statement. Returns those still Running under this owner, with any cancel requested for them; a job missing from
    /// the answer is no longer this owner's.
    /// </summary>
    public Task<List<LeaseRenewal>> RenewLeasesAsync(string owner, Guid[] ids, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("renew-leases", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.SqlQuery<LeaseRenewal>($"""
                /* jobworker:renew-leases */
                WITH locked AS (
                    SELECT id FROM jobs WHERE id = ANY({ids}) AND state = 'Running' AND owner = {owner} ORDER BY id FOR UPDATE
                )
                UPDATE jobs j SET lease_expires_at = now() + {lease}
                FROM locked WHERE j.id = locked.id AND j.state = 'Running' AND j.owner = {owner}
                RETURNING j.id AS "JobId", j.cancel_reason AS "CancelReason"
                """).ToListAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// Recovery: Running jobs whose lease has lapsed (their worker died, or lost the database for a whole lease) →
    /// Pending, due now, with the attempt used; → Failed when no attempt is left; → Cancelled when a cancel was
    /// requested. At most <paramref name="batch"/> jobs, skipping rows another replica is recovering. Records and
    /// returns each job's event.
    /// </summary>
    public Task<List<OutboxEvent>> RecoverLapsedAsync(int batch, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("recover", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.SqlQuery<OutboxEvent>($"""
                /* jobworker:recover */
                WITH lapsed AS (
                    SELECT id FROM jobs WHERE state = 'Running' AND lease_expires_at < now()
                    ORDER BY lease_expires_at LIMIT {batch} FOR UPDATE SKIP LOCKED
                ), t AS (
                    UPDATE jobs j
                    SET state = CASE WHEN j.cancel_reason IS NOT NULL THEN 'Cancelled' WHEN j.attempt >= j.max_attempts THEN 'Failed' ELSE 'Pending' END,
                        error = CASE
                            WHEN j.cancel_reason IS NOT NULL THEN j.cancel_reason
                            WHEN j.attempt >= j.max_attempts THEN 'Gave up after ' || j.attempt || ' of ' || j.max_attempts || ' attempts: worker ' || coalesce(j.owner, '?') || ' stopped during the last one (its lease lapsed).'
                            ELSE 'Worker ' || coalesce(j.owner, '?') || ' stopped during attempt ' || j.attempt || ' (its lease lapsed); the job runs again.' END,
                        owner = CASE WHEN j.cancel_reason IS NULL AND j.attempt < j.max_attempts THEN NULL ELSE j.owner END,
                        run_at = now(), dispatched_at = NULL, lease_expires_at = NULL, claim_token = NULL,
                        finished_at = CASE WHEN j.cancel_reason IS NULL AND j.attempt < j.max_attempts THEN NULL ELSE now() END,
                        updated_at = now()
                    FROM lapsed WHERE j.id = lapsed.id
                    RETURNING j.id, j.state, j.attempt, j.error, j.type, j.correlation_id, j.started_at, j.updated_at
                ), e AS (
                    INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
                    SELECT id, CASE state WHEN 'Cancelled' THEN 'Cancelled' ELSE 'Failed' END, attempt, state = 'Pending', error, updated_at, now() + {RelayAfter}
                    FROM t
                    ON CONFLICT DO NOTHING
                    RETURNING job_id, kind, attempt, will_retry, error, occurred_at
                )
                SELECT e.job_id AS "JobId", e.kind AS "Kind", e.attempt AS "Attempt", t.type AS "JobType", t.correlation_id AS "CorrelationId",
                       e.will_retry AS "WillRetry", e.error AS "Error", NULL::text AS "WorkerId", e.occurred_at AS "OccurredAt",
                       NULL::text AS "Result", t.started_at AS "StartedAt"
                FROM e JOIN t ON t.id = e.job_id
                """).ToListAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// The dispatcher's batch: Pending jobs of <paramref name="queue"/> that are due and have no message queued (or whose
    /// message was sent longer than <paramref name="redispatchAfter"/> ago and never claimed), marked dispatched now.
    /// The caller sends a SubmitJob for each to that queue. Skips rows another replica is dispatching.
    /// </summary>
    public Task<List<Job>> TakeDueAsync(string queue, int batch, TimeSpan redispatchAfter, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("dispatch", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Jobs.FromSql($"""
                /* jobworker:dispatch */
                WITH due AS (
                    SELECT id FROM jobs
                    WHERE state = 'Pending' AND queue = {queue} AND run_at <= now() AND (dispatched_at IS NULL OR dispatched_at < now() - {redispatchAfter})
                    ORDER BY run_at LIMIT {batch} FOR UPDATE SKIP LOCKED
                )
                UPDATE jobs j SET dispatched_at = now() FROM due WHERE j.id = due.id
                RETURNING j.*
                """).AsNoTracking().ToListAsync(ct);
        }, cancellationToken);

    /// <summary>Their SubmitJob could not be sent: mark them undispatched, so the next tick tries again.</summary>
    public Task<int> UndispatchAsync(Guid[] ids, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("undispatch", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.ExecuteSqlAsync($"""
                /* jobworker:undispatch */
                UPDATE jobs SET dispatched_at = NULL WHERE id = ANY({ids}) AND state = 'Pending'
                """, ct);
        }, cancellationToken);

    /// <summary>
    /// The relay's sweep: recorded events whose writer did not confirm them in time (it died, or the broker was
    /// away), claimed for another <c>Dispatch:EventRetryAfter</c>, oldest first.
    /// </summary>
    public Task<List<OutboxEvent>> TakeUnpublishedEventsAsync(int batch, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("take-events", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.SqlQuery<OutboxEvent>($"""
                /* jobworker:take-events */
                WITH overdue AS (
                    SELECT job_id, kind, attempt FROM job_events WHERE published_at IS NULL AND relay_after < now()
                    ORDER BY relay_after LIMIT {batch} FOR UPDATE SKIP LOCKED
                )
                UPDATE job_events e SET relay_after = now() + {RelayAfter}
                FROM overdue o, jobs j
                WHERE e.job_id = o.job_id AND e.kind = o.kind AND e.attempt = o.attempt AND j.id = e.job_id
                RETURNING e.job_id AS "JobId", e.kind AS "Kind", e.attempt AS "Attempt", j.type AS "JobType", j.correlation_id AS "CorrelationId",
                          e.will_retry AS "WillRetry", e.error AS "Error", e.worker_id AS "WorkerId", e.occurred_at AS "OccurredAt",
                          CASE WHEN e.kind = 'Succeeded' THEN j.result::text END AS "Result", j.started_at AS "StartedAt"
                """).ToListAsync(ct);
        }, cancellationToken);

    private const string MarkPublishedSql = """
        /* jobworker:events-published */
        UPDATE job_events e SET published_at = now()
        FROM unnest($1::uuid[], $2::text[], $3::int[]) AS p(job_id, kind, attempt)
        WHERE e.job_id = p.job_id AND e.kind = p.kind AND e.attempt = p.attempt AND e.published_at IS NULL
        """;

    /// <summary>
    /// The broker confirmed these events: they leave the outbox and stay as the job's history. One statement for the batch.
    /// </summary>
    public Task<int> MarkEventsPublishedAsync(IReadOnlyCollection<OutboxEvent> published, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("events-published", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.ExecuteAsync(MarkPublishedSql, published, static (p, published) =>
            {
                p.AddValue(published.Select(e => e.JobId).ToArray());
                p.AddValue(published.Select(e => e.Kind).ToArray());
                p.AddValue(published.Select(e => e.Attempt).ToArray());
            }, ct);
        }, cancellationToken);

    /// <summary>
    /// A job that can never run (unknown type, bad input) → Failed, from Pending at <paramref name="attempt"/> only, so
    /// a job another worker has moved on is left alone. Records JobFailed and returns it, or null when not applied.
    /// </summary>
    public Task<OutboxEvent?> RejectAsync(Guid id, int attempt, string error, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("reject", async ct =>
        {
            error = StoredText.Clean(error)!;
            await using var db = await contexts.CreateDbContextAsync(ct);
            var events = await db.Database.SqlQuery<OutboxEvent>($"""
                /* jobworker:reject */
                WITH t AS (
                    UPDATE jobs SET state = 'Failed', error = {error}, dispatched_at = NULL, finished_at = now(), updated_at = now()
                    WHERE id = {id} AND state = 'Pending' AND attempt = {attempt}
                    RETURNING id, attempt, error, type, correlation_id, finished_at
                ), e AS (
                    INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
                    SELECT id, 'Failed', attempt, false, error, finished_at, now() FROM t
                    ON CONFLICT DO NOTHING
                )
                SELECT id AS "JobId", 'Failed' AS "Kind", attempt AS "Attempt", type AS "JobType", correlation_id AS "CorrelationId",
                       false AS "WillRetry", error AS "Error", NULL::text AS "WorkerId", finished_at AS "OccurredAt",
                       NULL::text AS "Result", NULL::timestamptz AS "StartedAt"
                FROM t
                """).ToListAsync(ct);
            return events.Count == 0 ? null : events[0];
        }, cancellationToken, id);

    /// <summary>
    /// A submission whose body could not be read, but whose job id could: Failed with the reason. Stores a Failed
    /// row when the job is unknown, fails it when still Pending, and leaves a job that is further along alone.
    /// </summary>
    public Task<bool> RejectUnreadableAsync(Guid id, string error, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("reject-unreadable", async ct =>
        {
            error = StoredText.Clean(error)!;
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.Database.ExecuteSqlAsync($"""
                /* jobworker:reject-unreadable */
                WITH t AS (
                    INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, error, run_at, created_at, finished_at, updated_at)
                    VALUES ({id}, '(unreadable)', 'null'::jsonb, 'Failed', 0, 1, {error}, now(), now(), now(), now())
                    ON CONFLICT (id) DO UPDATE
                    SET state = 'Failed', error = EXCLUDED.error, dispatched_at = NULL, finished_at = now(), updated_at = now()
                    WHERE jobs.state = 'Pending'
                    RETURNING id, attempt, error, finished_at
                )
                INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
                SELECT id, 'Failed', attempt, false, error, finished_at, now() FROM t
                ON CONFLICT DO NOTHING
                """, ct);
            return written == 1;
        }, cancellationToken, id);

    public Task<Job?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("find", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, ct);
        }, cancellationToken);

    /// <summary>
    /// Failed → Pending, due now, with <paramref name="extraAttempts"/> more attempts: the failed jobs
    /// <paramref name="filter"/> matches (one job when it names an id). Returns how many; the workers' dispatchers send
    /// their messages within a tick. The CLI's <c>jobs retry</c> and the dashboard's retry both come here.
    /// </summary>
    public Task<int> RequeueFailedAsync(Guid? id, JobFilter filter, int extraAttempts, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("requeue-failed", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var failed = filter.Apply(db.Jobs.TagWith("jobworker:requeue-failed").Where(j => j.State == JobState.Failed));
            if (id is { } one)
            {
                failed = failed.Where(j => j.Id == one);
            }

            // DateTime.UtcNow is translated to now(): the database's clock, as in every other transition.
            return await failed.ExecuteUpdateAsync(set => set
                .SetProperty(j => j.State, JobState.Pending)
                .SetProperty(j => j.MaxAttempts, j => j.Attempt + extraAttempts)
                .SetProperty(j => j.Error, (string?)null)
                .SetProperty(j => j.Owner, (string?)null)
                .SetProperty(j => j.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(j => j.RunAt, _ => DateTime.UtcNow)
                .SetProperty(j => j.DispatchedAt, (DateTime?)null)
                .SetProperty(j => j.FinishedAt, (DateTime?)null)
                .SetProperty(j => j.UpdatedAt, _ => DateTime.UtcNow), ct);
        }, cancellationToken);

    /// <summary>Deletes finished jobs (Succeeded, Failed, Cancelled) that finished more than <paramref name="olderThan"/> ago.</summary>
    public Task<int> PurgeFinishedAsync(TimeSpan olderThan, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("purge", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Database.ExecuteSqlAsync($"""
                /* jobworker:purge */
                DELETE FROM jobs
                WHERE finished_at < now() - {olderThan} AND state IN ('Succeeded', 'Failed', 'Cancelled')
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

    /// <summary>A job row in <see cref="JobColumns"/> order, starting at <paramref name="first"/>.</summary>
    private static Job ReadJob(NpgsqlDataReader r, int first) => new()
    {
        Id = r.GetGuid(first),
        Type = r.GetString(first + 1),
        Queue = r.GetString(first + 2),
        Payload = r.GetString(first + 3),
        State = Enum.Parse<JobState>(r.GetString(first + 4)),
        Attempt = r.GetInt32(first + 5),
        MaxAttempts = r.GetInt32(first + 6),
        Timeout = r.IsDBNull(first + 7) ? null : r.GetTimeSpan(first + 7),
        CorrelationId = r.IsDBNull(first + 8) ? null : r.GetGuid(first + 8),
        RunAt = r.GetDateTime(first + 9),
        DispatchedAt = r.IsDBNull(first + 10) ? null : r.GetDateTime(first + 10),
        CancelReason = r.IsDBNull(first + 11) ? null : r.GetString(first + 11),
        ClaimToken = r.IsDBNull(first + 12) ? null : r.GetGuid(first + 12),
        Owner = r.IsDBNull(first + 13) ? null : r.GetString(first + 13),
        LeaseExpiresAt = r.IsDBNull(first + 14) ? null : r.GetDateTime(first + 14),
        Error = r.IsDBNull(first + 15) ? null : r.GetString(first + 15),
        Result = r.IsDBNull(first + 16) ? null : r.GetString(first + 16),
        CreatedAt = r.GetDateTime(first + 17),
        StartedAt = r.IsDBNull(first + 18) ? null : r.GetDateTime(first + 18),
        FinishedAt = r.IsDBNull(first + 19) ? null : r.GetDateTime(first + 19),
        UpdatedAt = r.GetDateTime(first + 20),
    };
}

/// <summary>A claimed job whose handler succeeded, with its result as JSON (or null).</summary>
internal readonly record struct JobSuccess(Job Claimed, string? ResultJson)
{
    /// <summary>The trace of the job whose success this is (its handler's span), so a batched write can link to it.</summary>
    public ActivityContext Trace { get; init; } = Activity.Current?.Context ?? default;
}

/// <summary>What a transition of a claimed job wrote with its event; the rest of the event is the claimed row's.</summary>
internal sealed class WrittenEvent
{
    /// <summary>The event's kind (for a release, the state written).</summary>
    public string Kind { get; set; } = "";
    public bool WillRetry { get; set; }
    public string? Error { get; set; }
    public DateTime OccurredAt { get; set; }

    public OutboxEvent For(Job claimed)
    {
        var recorded = OutboxEvent.For(claimed, Enum.Parse<JobEventKind>(Kind), OccurredAt);
        recorded.WillRetry = WillRetry;
        recorded.Error = Error;
        return recorded;
    }
}

/// <summary>One job whose lease was renewed, and the cancel requested for it, if any.</summary>
internal sealed class LeaseRenewal
{
    public Guid JobId { get; set; }
    public string? CancelReason { get; set; }
}
