using System.Collections.Concurrent;

namespace JobWorker.Jobs;

/// <summary>
/// Every statement the job lifecycle runs, one named constant each, tagged <c>/* jobworker:name */</c> so it can be told
/// apart in pg_stat_activity and slow-statement logs. Parameters are positional (<c>$1</c>…) so Npgsql sends each text
/// unchanged and auto-prepares it. The statements apply what the code decided (<see cref="JobLifecycle"/>): each is
/// fenced by the row's state, attempt and owner, and records its event in <c>job_events</c> in the same statement.
/// Every time is the database's clock (<c>now()</c>), so leases and due times compare correctly across replicas.
/// </summary>
internal static class JobSql
{
    /// <summary>The columns of a claimed job, read by name (see <see cref="JobRows"/>); the payload is read only by a claim.</summary>
    private const string ClaimedColumns = """
        id, type, queue, state, attempt, max_attempts, timeout, correlation_id, run_at, owner, claim_token, lease_expires_at,
        created_at, started_at, updated_at, checkpoint::text AS checkpoint
        """;

    /// <summary>Absent → Pending, due at $8, or after $9, or now, priority $10, concurrency key $11. Returns whether it is due now; no row when it existed.</summary>
    public const string Accept = """
        /* jobworker:accept */
        INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, run_at, dispatched_at, created_at, updated_at, priority, concurrency_key)
        SELECT $1, $2, $3, $4::jsonb, 'Pending', 0, $5, $6, $7, v.run_at, CASE WHEN v.run_at <= now() THEN now() END, now(), now(), $10, $11
        FROM (SELECT greatest(now(), coalesce($8::timestamptz, now() + coalesce($9::interval, interval '0'))) AS run_at) v
        ON CONFLICT (id) DO NOTHING
        RETURNING run_at <= now() AS due
        """;

    /// <summary>
    /// What a continuation's parents say, per child <c>c</c> over parents <c>p</c> (their ids) left-joined to their rows
    /// <c>pj</c>, in one pass: how many have not finished (or not arrived), and the first, by finish time, that ended Failed
    /// or Cancelled. Only aggregates over one child's parents, so the planner runs it per child, by index, never hashed
    /// over all of <c>job_parents</c>.
    /// </summary>
    private const string ParentFacts = """
        count(*) FILTER (WHERE pj.state IS NULL OR pj.state NOT IN ('Succeeded', 'Failed', 'Cancelled'))::int AS unfinished,
        (array_agg(p.parent_id ORDER BY pj.finished_at, p.parent_id) FILTER (WHERE pj.state IN ('Failed', 'Cancelled')))[1] AS ended_parent,
        (array_agg(pj.state ORDER BY pj.finished_at, p.parent_id) FILTER (WHERE pj.state IN ('Failed', 'Cancelled')))[1] AS ended_state
        """;

    /// <summary>
    /// Absent → Awaiting, a continuation held for parents $8 (distinct ids) with policy $9 (any outcome), priority $10 and concurrency key $11, its parents in
    /// <c>job_parents</c>; never sent or claimed before the releaser (<see cref="AwaitingRecent"/>, <see cref="AwaitingSweep"/>)
    /// or its accept finds its parents finished. Returns the new row with what its parents say at accept (see
    /// <see cref="ParentFacts"/>), so a child whose parents all finished already is decided at once; no row when the job
    /// existed (a redelivery adds nothing).
    /// </summary>
    public const string AcceptAwaiting = $"""
        /* jobworker:accept-awaiting */
        WITH inserted AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, after_any, run_at, created_at, updated_at, priority, concurrency_key)
            VALUES ($1, $2, $3, $4::jsonb, 'Awaiting', 0, $5, $6, $7, $9, now(), now(), now(), $10, $11)
            ON CONFLICT (id) DO NOTHING
            RETURNING id, type, after_any, created_at
        ), parents AS (
            INSERT INTO job_parents (job_id, parent_id)
            SELECT i.id, p.parent_id FROM inserted i CROSS JOIN unnest($8::uuid[]) AS p(parent_id)
            ON CONFLICT DO NOTHING
        )
        SELECT i.id, i.type, i.after_any, i.created_at, f.unfinished, f.ended_parent, f.ended_state
        FROM inserted i
        CROSS JOIN LATERAL (
            SELECT {ParentFacts}
            FROM unnest($8::uuid[]) AS p(parent_id) LEFT JOIN jobs pj ON pj.id = p.parent_id) f
        """;

    /// <summary>
    /// The continuation releaser's tick between sweeps: Awaiting jobs of queue $1 with a parent that finished within $3,
    /// that may be decided now (no parent unfinished or missing, or, unless any outcome will do, a parent that ended Failed
    /// or Cancelled), oldest first, at most $2. It starts from the parents (ix_jobs_finished_at, then
    /// ix_job_parents_parent_id), so its cost follows the jobs that finished within $3 and their children, not the held
    /// children nor <c>job_parents</c>' history; with no Awaiting job in $1 it reads nothing else. Each parent's children
    /// are a LATERAL subquery behind <c>OFFSET 0</c>, so the planner cannot flatten it into a join that hashes
    /// <c>job_parents</c> whole when many jobs finished lately. Not locked: the writer's fence on state Awaiting decides each child once (a lock taken here would end
    /// with this statement, before the write).
    /// </summary>
    public const string AwaitingRecent = $"""
        /* jobworker:awaiting-recent */
        WITH children AS MATERIALIZED (
            SELECT DISTINCT c.id, c.type, c.after_any, c.created_at
            FROM jobs fin
            CROSS JOIN LATERAL (
                SELECT c.id, c.type, c.after_any, c.created_at
                FROM job_parents fp JOIN jobs c ON c.id = fp.job_id
                WHERE fp.parent_id = fin.id AND c.state = 'Awaiting' AND c.queue = $1
                OFFSET 0) c
            WHERE fin.finished_at > now() - $3::interval)
        SELECT c.id, c.type, c.after_any, c.created_at, f.unfinished, f.ended_parent, f.ended_state
        FROM children c
        CROSS JOIN LATERAL (
            SELECT {ParentFacts}
            FROM job_parents p LEFT JOIN jobs pj ON pj.id = p.parent_id
            WHERE p.job_id = c.id) f
        WHERE (SELECT a.created_at FROM jobs a WHERE a.state = 'Awaiting' AND a.queue = $1 ORDER BY a.created_at LIMIT 1) IS NOT NULL
          AND (f.unfinished = 0 OR (NOT c.after_any AND f.ended_parent IS NOT NULL))
        ORDER BY c.created_at, c.id
        LIMIT $2
        """;

    /// <summary>
    /// A keyset page's start: rows after ($3, $4) in (created_at, id) order, or from the first when both are null. The
    /// first comparison lets the planner start its index range at $3; the second skips the rows of $3 up to id $4.
    /// </summary>
    private const string AfterCreatedAtAndId = """
        created_at >= coalesce($3::timestamptz, '-infinity')
                      AND (created_at, id) > (coalesce($3::timestamptz, '-infinity'), coalesce($4::uuid, '00000000-0000-0000-0000-000000000000'))
        """;

    /// <summary>
    /// One page of the continuation releaser's sweep, its safety net for parents that finished while no releaser looked:
    /// at most $2 Awaiting jobs of queue $1 after ($3, $4) in (created_at, id) order (null: from the first), each with what
    /// its parents say, ready or not; the caller decides and pages on. Keyset-paged on ix_jobs_awaiting_queue_created_at,
    /// and each child's parents are read by their key, so a page costs its own children's parents only.
    /// </summary>
    public const string AwaitingSweep = $"""
        /* jobworker:awaiting-sweep */
        SELECT c.id, c.type, c.after_any, c.created_at, f.unfinished, f.ended_parent, f.ended_state
        FROM (
            SELECT id, type, after_any, created_at FROM jobs
            WHERE state = 'Awaiting' AND queue = $1
              AND {AfterCreatedAtAndId}
            ORDER BY created_at, id
            LIMIT $2) c
        CROSS JOIN LATERAL (
            SELECT {ParentFacts}
            FROM job_parents p LEFT JOIN jobs pj ON pj.id = p.parent_id
            WHERE p.job_id = c.id) f
        ORDER BY c.created_at, c.id
        """;

    /// <summary>Job $1's parents (a continuation's <c>After</c>) and each one's state; null for one not yet submitted.</summary>
    public const string Parents = """
        /* jobworker:parents */
        SELECT p.parent_id, pj.state FROM job_parents p LEFT JOIN jobs pj ON pj.id = p.parent_id
        WHERE p.job_id = $1
        ORDER BY p.parent_id
        """;

    /// <summary>
    /// A new job due now, accepted and claimed at once: absent → Running (attempt 1), or Pending and due → Running with
    /// attempt + 1. Records Started. The last branch finds a claim of this token that already committed (a retry after a
    /// lost reply) and extends its lease. Returns <c>accepted</c> and the claimed row's columns. While an operator has
    /// paused queue $3, the job is accepted as Pending and unsent instead (no row returned): a delivery that raced the
    /// pause never starts a job, and the dispatcher sends it once the queue is resumed. The new row has priority $12 and concurrency key $13.
    /// </summary>
    public const string AcceptAndClaim = $"""
        /* jobworker:accept-claim */
        WITH paused AS (
            SELECT EXISTS (SELECT FROM queues WHERE name = $3 AND paused_at IS NOT NULL) AS paused
        ), held AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, run_at, created_at, updated_at, priority, concurrency_key)
            SELECT $1, $2, $3, $4::jsonb, 'Pending', 0, $5, $6, $7, now(), now(), now(), $12, $13 FROM paused WHERE paused
            ON CONFLICT (id) DO NOTHING
        ), inserted AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, owner, claim_token,
                              lease_expires_at, run_at, started_at, created_at, updated_at, priority, concurrency_key)
            SELECT $1, $2, $3, $4::jsonb, 'Running', 1, $5, $6, $7, $8, $9, now() + $10, now(), now(), now(), now(), $12, $13 FROM paused WHERE NOT paused
            ON CONFLICT (id) DO NOTHING
            RETURNING {ClaimedColumns}
        ), claimed AS (
            UPDATE jobs
            SET state = 'Running', attempt = attempt + 1, owner = $8, claim_token = $9,
                lease_expires_at = now() + $10, started_at = now(), finished_at = NULL, dispatched_at = NULL, updated_at = now()
            WHERE id = $1 AND state = 'Pending' AND run_at <= now() AND attempt < max_attempts AND NOT unchecked
              AND NOT EXISTS (SELECT FROM inserted) AND NOT (SELECT paused FROM paused)
            RETURNING {ClaimedColumns}
        ), mine AS (
            UPDATE jobs SET lease_expires_at = now() + $10
            WHERE id = $1 AND state = 'Running' AND claim_token = $9
            RETURNING {ClaimedColumns}
        ), taken AS (
            SELECT true AS accepted, * FROM inserted UNION ALL SELECT false, * FROM claimed
        ), started AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, worker_id, occurred_at, relay_after)
            SELECT id, 'Started', attempt, false, owner, started_at, now() + $11 FROM taken
        )
        SELECT * FROM taken
        UNION ALL
        SELECT false, * FROM mine
        """;

    /// <summary>
    /// A job already in the ledger (sent by a dispatcher): Pending and due → Running with attempt + 1, owner $2, token $3,
    /// lease $4; records Started. Returns the row with its payload as stored. The last branch finds this token's own
    /// committed claim and extends its lease. While an operator has paused the job's queue it is not claimed but marked
    /// unsent, so the dispatcher sends it again as soon as the queue is resumed.
    /// </summary>
    public const string Claim = $"""
        /* jobworker:claim */
        WITH paused AS (
            SELECT EXISTS (SELECT FROM jobs j JOIN queues q ON q.name = j.queue WHERE j.id = $1 AND q.paused_at IS NOT NULL) AS paused
        ), held AS (
            UPDATE jobs SET dispatched_at = NULL
            WHERE id = $1 AND state = 'Pending' AND (SELECT paused FROM paused)
        ), claimed AS (
            UPDATE jobs
            SET state = 'Running', attempt = attempt + 1, owner = $2, claim_token = $3,
                lease_expires_at = now() + $4, started_at = now(), finished_at = NULL, dispatched_at = NULL, updated_at = now()
            WHERE id = $1 AND state = 'Pending' AND run_at <= now() AND attempt < max_attempts AND NOT unchecked
              AND NOT (SELECT paused FROM paused)
            RETURNING {ClaimedColumns}, payload::text AS payload
        ), mine AS (
            UPDATE jobs SET lease_expires_at = now() + $4
            WHERE id = $1 AND state = 'Running' AND claim_token = $3
            RETURNING {ClaimedColumns}, payload::text AS payload
        ), started AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, worker_id, occurred_at, relay_after)
            SELECT id, 'Started', attempt, false, owner, started_at, now() + $5 FROM claimed
        )
        SELECT * FROM claimed
        UNION ALL
        SELECT * FROM mine
        """;

    /// <summary>
    /// Sent in one batch before <see cref="ClaimLimited"/>: serialises the claims of job $1's limited type (of its type and
    /// concurrency key when $2 is false: a type limited per key only, whose jobs without a key are not limited and take no
    /// lock, so they never queue behind each other). A transaction-scoped advisory lock, so it works through
    /// PgBouncer in transaction mode and ends with the claim; no other type and no unlimited job ever takes it. It is a
    /// statement of its own because READ COMMITTED takes a snapshot per statement: counted inside the claim, the places in
    /// use would be read from before the wait and over-admit.
    /// </summary>
    public const string LimitLock = """
        /* jobworker:limit-lock */
        SELECT pg_advisory_xact_lock(hashtextextended('jobworker:limit:' || type || CASE WHEN $2 THEN '' ELSE ':' || concurrency_key END, 0))
        FROM jobs WHERE id = $1 AND ($2 OR concurrency_key IS NOT NULL)
        """;

    /// <summary>
    /// <see cref="Claim"/> for a job whose type has a fleet-wide limit, run under <see cref="LimitLock"/>: Pending and due →
    /// Running (owner $2, token $3, lease $4; Started recorded with relay delay $5) only while its type has room: fewer than
    /// $6 Running with a live lease, fewer than $7 of them with its concurrency key, fewer than $8 starts within the last $9
    /// (each null: no such limit). A dead replica's places free as its leases lapse. A job over a limit holds nothing: it is
    /// returned with <c>limited</c> naming the limit, left Pending and unsent, and, over the rate, not due again before the
    /// window has room. A rate-limited start is recorded in <c>job_starts</c>, and starts older than the window pruned, in
    /// the same statement. Times are the clock after the lock (<c>clock_timestamp()</c>), so the starts of one type are in lock
    /// order and no window of $9 holds more than $8 of them. The candidate row is locked (<c>FOR UPDATE</c>) before the
    /// verdict, and each write repeats the state fence: a cancel or rejection committed while this statement waited for
    /// the row leaves it alone (an UPDATE that waited re-checks only its own WHERE).
    /// </summary>
    public const string ClaimLimited = $"""
        /* jobworker:claim-limited */
        WITH t AS MATERIALIZED (
            SELECT clock_timestamp() AS now_at
        ), paused AS (
            SELECT EXISTS (SELECT FROM jobs j JOIN queues q ON q.name = j.queue WHERE j.id = $1 AND q.paused_at IS NOT NULL) AS paused
        ), pause_held AS (
            UPDATE jobs SET dispatched_at = NULL
            WHERE id = $1 AND state = 'Pending' AND (SELECT paused FROM paused)
        ), candidate AS MATERIALIZED (
            SELECT j.id AS job_id, j.type AS job_type, j.concurrency_key AS job_key FROM jobs j
            WHERE j.id = $1 AND j.state = 'Pending' AND j.run_at <= now() AND j.attempt < j.max_attempts AND NOT j.unchecked
              AND NOT (SELECT paused FROM paused)
            FOR UPDATE OF j
        ), verdict AS MATERIALIZED (
            SELECT c.job_id, t.now_at,
                CASE
                    WHEN $6::int IS NOT NULL AND (SELECT count(*) FROM jobs r
                        WHERE r.state = 'Running' AND r.type = c.job_type AND r.lease_expires_at > t.now_at) >= $6::int THEN 'Concurrency'
                    WHEN $7::int IS NOT NULL AND c.job_key IS NOT NULL AND (SELECT count(*) FROM jobs r
                        WHERE r.state = 'Running' AND r.type = c.job_type AND r.concurrency_key = c.job_key AND r.lease_expires_at > t.now_at) >= $7::int THEN 'PerKeyConcurrency'
                    WHEN $8::int IS NOT NULL AND (SELECT count(*) FROM job_starts s
                        WHERE s.type = c.job_type AND s.started_at > t.now_at - $9::interval) >= $8::int THEN 'Rate'
                END AS limited,
                (SELECT min(s.started_at) FROM job_starts s WHERE s.type = c.job_type AND s.started_at > t.now_at - $9::interval) + $9::interval AS room_at
            FROM candidate c, t
        ), held AS (
            UPDATE jobs SET dispatched_at = NULL,
                run_at = CASE WHEN v.limited = 'Rate' THEN greatest(jobs.run_at, v.room_at) ELSE jobs.run_at END
            FROM verdict v
            WHERE jobs.id = v.job_id AND v.limited IS NOT NULL AND jobs.state = 'Pending'
            RETURNING {ClaimedColumns}, payload::text AS payload, v.limited
        ), claimed AS (
            UPDATE jobs
            SET state = 'Running', attempt = attempt + 1, owner = $2, claim_token = $3,
                lease_expires_at = v.now_at + $4, started_at = v.now_at, finished_at = NULL, dispatched_at = NULL, updated_at = v.now_at
            FROM verdict v
            WHERE jobs.id = v.job_id AND v.limited IS NULL AND jobs.state = 'Pending' AND jobs.run_at <= now() AND jobs.attempt < jobs.max_attempts
            RETURNING {ClaimedColumns}, payload::text AS payload
        ), counted AS (
            INSERT INTO job_starts (type, started_at, job_id)
            SELECT type, started_at, id FROM claimed WHERE $8::int IS NOT NULL
        ), pruned AS (
            DELETE FROM job_starts s USING candidate c, t
            WHERE $8::int IS NOT NULL AND s.type = c.job_type AND s.started_at <= t.now_at - $9::interval
        ), mine AS (
            UPDATE jobs SET lease_expires_at = now() + $4
            WHERE id = $1 AND state = 'Running' AND claim_token = $3
            RETURNING {ClaimedColumns}, payload::text AS payload
        ), started AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, worker_id, occurred_at, relay_after)
            SELECT id, 'Started', attempt, false, owner, started_at, now() + $5 FROM claimed
        )
        SELECT *, NULL::text AS limited FROM claimed
        UNION ALL
        SELECT *, NULL::text FROM mine
        UNION ALL
        SELECT * FROM held
        """;

    /// <summary>The claim of token $2, if it committed: the claimed row and its payload, its lease extended by $3.</summary>
    public const string FindClaim = $"""
        /* jobworker:find-claim */
        UPDATE jobs SET lease_expires_at = now() + $3
        WHERE id = $1 AND state = 'Running' AND claim_token = $2
        RETURNING {ClaimedColumns}, payload::text AS payload
        """;

    /// <summary>Where a job is, without its payload or result (which may be what is wrong with it).</summary>
    public const string Locate = """
        /* jobworker:locate */
        SELECT id, type, state, attempt, max_attempts, owner, run_at, unchecked FROM jobs WHERE id = $1
        """;

    /// <summary>
    /// Applies outcomes decided in code (<see cref="JobOutcome"/>), many per statement, each fenced by its row's state,
    /// attempt, owner (when given), for recovery a still-lapsed lease, and for a continuation cancelled by a parent's end
    /// that parent still Failed or Cancelled ($13, null for every other outcome), and for the rejection of a row the client
    /// wrote, that row still unchecked ($14; the write clears the flag, so of two replicas' decisions on it the first wins);
    /// rows are locked in id order. A cancel requested
    /// while the job ran turns any outcome of that run but success into Cancelled. Records each outcome's event (history-only
    /// kinds are marked published at once) and returns, per applied outcome (by its position, from 1), the state and the event written.
    /// </summary>
    public const string ApplyOutcomes = """
        /* jobworker:apply-outcomes */
        WITH d AS (
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::boolean[], $6::text[], $7::interval[], $8::int[],
                                 $9::text[], $10::text[], $11::text[], $13::uuid[], $14::boolean[]) WITH ORDINALITY
                AS d(id, from_state, attempt, owner, lapsed_only, to_state, retry_after, max_attempts, error, result, event_kind, ended_parent, unchecked_only, ord)
        ), locked AS (
            SELECT d.ord, j.cancel_reason IS NOT NULL AND d.from_state = 'Running' AND d.to_state <> 'Succeeded' AS cancel
            FROM jobs j JOIN d ON d.id = j.id
            WHERE j.state = d.from_state AND j.attempt = d.attempt AND (d.owner IS NULL OR j.owner = d.owner)
              AND (NOT d.lapsed_only OR j.lease_expires_at < now()) AND (NOT d.unchecked_only OR j.unchecked)
              AND (d.ended_parent IS NULL OR EXISTS (SELECT FROM jobs pj WHERE pj.id = d.ended_parent AND pj.state IN ('Failed', 'Cancelled')))
            ORDER BY j.id FOR UPDATE OF j
        ), t AS (
            UPDATE jobs j
            SET state = CASE WHEN l.cancel THEN 'Cancelled' ELSE d.to_state END,
                result = CASE WHEN d.to_state = 'Succeeded' THEN d.result::jsonb ELSE j.result END,
                error = CASE WHEN l.cancel THEN j.cancel_reason WHEN d.event_kind IN ('Succeeded', 'Requeued', 'Continued') THEN NULL
                             WHEN d.event_kind = 'Released' THEN j.error ELSE d.error END,
                max_attempts = CASE WHEN l.cancel THEN j.max_attempts ELSE coalesce(d.max_attempts, j.max_attempts) END,
                owner = CASE WHEN d.to_state = 'Pending' AND NOT l.cancel THEN NULL ELSE j.owner END,
                run_at = CASE WHEN d.to_state = 'Pending' AND NOT l.cancel THEN now() + d.retry_after ELSE j.run_at END,
                cancel_reason = CASE WHEN d.to_state = 'Succeeded' THEN NULL ELSE j.cancel_reason END,
                finished_at = CASE WHEN d.to_state = 'Pending' AND NOT l.cancel THEN NULL ELSE now() END,
                unchecked = j.unchecked AND NOT d.unchecked_only,
                dispatched_at = NULL, lease_expires_at = NULL, claim_token = NULL, updated_at = now()
            FROM d JOIN locked l ON l.ord = d.ord
            WHERE j.id = d.id
            RETURNING d.ord, j.id, j.state, j.attempt, j.type, j.queue, j.correlation_id, j.started_at, j.updated_at,
                      CASE WHEN l.cancel THEN 'Cancelled' ELSE d.event_kind END AS event_kind,
                      CASE WHEN l.cancel THEN j.cancel_reason WHEN d.event_kind = 'Succeeded' THEN NULL ELSE d.error END AS event_error
        ), e AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after, published_at)
            SELECT id, event_kind, attempt, event_kind = 'Retrying', event_error, updated_at,
                   now() + $12, CASE WHEN event_kind IN ('Released', 'Requeued', 'Continued') THEN now() END
            FROM t
            ON CONFLICT (job_id, kind, attempt) DO UPDATE
            SET error = EXCLUDED.error, occurred_at = EXCLUDED.occurred_at, relay_after = EXCLUDED.relay_after, published_at = EXCLUDED.published_at
        )
        SELECT ord, id, state, type, queue, correlation_id, started_at, event_kind, event_error, updated_at AS occurred_at FROM t
        """;

    /// <summary>
    /// A CancelJob for job $1 with reason $2, from the deployment of queue $3: Pending or Awaiting → Cancelled, an unknown
    /// job gets a Cancelled tombstone (so a SubmitJob that arrives later never runs), a Running one gets the request for
    /// its owner. Returns the state afterwards; no row when the job had already finished.
    /// </summary>
    public const string RequestCancel = """
        /* jobworker:request-cancel */
        WITH t AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, error, run_at, created_at, finished_at, updated_at)
            VALUES ($1, '(not yet submitted)', $3, 'null'::jsonb, 'Cancelled', 0, 1, $2, now(), now(), now(), now())
            ON CONFLICT (id) DO UPDATE
            SET state = CASE WHEN jobs.state IN ('Pending', 'Awaiting') THEN 'Cancelled' ELSE jobs.state END,
                error = CASE WHEN jobs.state IN ('Pending', 'Awaiting') THEN EXCLUDED.error ELSE jobs.error END,
                cancel_reason = CASE WHEN jobs.state = 'Running' THEN coalesce(jobs.cancel_reason, EXCLUDED.error) END,
                dispatched_at = CASE WHEN jobs.state = 'Pending' THEN NULL ELSE jobs.dispatched_at END,
                finished_at = CASE WHEN jobs.state IN ('Pending', 'Awaiting') THEN now() END, updated_at = now()
            WHERE jobs.state IN ('Pending', 'Awaiting', 'Running')
            RETURNING id, state, attempt, error, updated_at
        ), cancelled AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
            SELECT id, 'Cancelled', attempt, false, error, updated_at, now() FROM t WHERE state = 'Cancelled'
            ON CONFLICT (job_id, kind, attempt) DO NOTHING
        )
        SELECT state FROM t
        """;

    /// <summary>
    /// Extends by $4 the leases of the jobs (ids $2, attempts $3) that owner $1 runs, locked in id order. Returns those
    /// still Running under this owner at that attempt, with any cancel requested for them.
    /// </summary>
    public const string RenewLeases = """
        /* jobworker:renew-leases */
        WITH mine AS (
            SELECT j.id FROM jobs j JOIN unnest($2::uuid[], $3::int[]) AS r(id, attempt) ON r.id = j.id
            WHERE j.state = 'Running' AND j.owner = $1 AND j.attempt = r.attempt
            ORDER BY j.id FOR UPDATE OF j
        )
        UPDATE jobs j SET lease_expires_at = now() + $4
        FROM mine WHERE j.id = mine.id
        RETURNING j.id, j.attempt, j.cancel_reason
        """;

    /// <summary>
    /// Handlers' latest progress ($3 completed, $4 total, $5 message) of jobs $1 at attempts $2, each written only while
    /// the job is still Running at that attempt under owner $6, locked in id order (as lease renewal and outcomes lock them).
    /// Returns the rows written. It leaves <c>updated_at</c> alone: that is the job's last transition, and progress is none.
    /// </summary>
    public const string WriteProgress = """
        /* jobworker:write-progress */
        WITH p AS (
            SELECT * FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::bigint[], $5::text[]) AS p(id, attempt, completed, total, message)
        ), mine AS (
            SELECT j.id FROM jobs j JOIN p ON p.id = j.id
            WHERE j.state = 'Running' AND j.attempt = p.attempt AND j.owner = $6
            ORDER BY j.id FOR UPDATE OF j
        )
        UPDATE jobs j
        SET progress_completed = p.completed, progress_total = p.total, progress_message = p.message, progress_updated_at = now()
        FROM mine, p
        WHERE j.id = mine.id AND p.id = mine.id
        RETURNING j.id, j.attempt
        """;

    /// <summary>
    /// A handler's checkpoint $4 (JSON) for job $1, written only while attempt $2 of it runs under owner $3; it stays on
    /// the row for the job's next attempts, which read it with their claim. Returns the id when written.
    /// </summary>
    public const string SaveCheckpoint = """
        /* jobworker:save-checkpoint */
        UPDATE jobs SET checkpoint = $4::jsonb
        WHERE id = $1 AND attempt = $2 AND owner = $3 AND state = 'Running'
        RETURNING id
        """;

    /// <summary>Running jobs of queue $1 whose lease lapsed, oldest first, at most $2: the rescuer decides what becomes of each.</summary>
    public const string Lapsed = """
        /* jobworker:lapsed */
        SELECT id, type, attempt, max_attempts, owner, cancel_reason FROM jobs
        WHERE state = 'Running' AND lease_expires_at < now() AND queue = $1
        ORDER BY lease_expires_at LIMIT $2
        """;

    /// <summary>
    /// The dispatcher's batch: Pending jobs of queue $1 that are due and have no message queued, or whose message was sent
    /// longer than $3 ago and never claimed, at most $2, marked dispatched now, skipping rows another replica is
    /// dispatching. Overdue messages first (oldest sent first; each job was due at least $3 ago), then unsent jobs, highest
    /// priority first and then in due order, in what room the batch has left. Each part reads its own partial index, which
    /// holds only the rows it may take, so neither reads past the jobs sent and waiting in the queue: their number is the backlog,
    /// and every replica runs this every tick. (Two CTEs because FOR UPDATE is not allowed in a UNION's members.) The
    /// rows are updated by id from an array, not joined: a join's plan depends on the batch's estimated size, and under
    /// a generic plan (Npgsql prepares this statement) PostgreSQL hashed the whole table to join 500 rows. Only the id
    /// and type: the payload stays in the ledger, and the claim reads it. Nothing is taken while an operator has paused
    /// the queue: its jobs stay unsent in the ledger, and the first tick after the resume sends them. Types with a fleet-wide
    /// limit are left to <see cref="TakeLimited"/>, which sends no more of them than their limits have room for; they are
    /// named in the text as constants (<see cref="TakeDue(IReadOnlyCollection{string})"/>), never as a parameter: against
    /// an array parameter, a generic plan guesses what share of the rows <c>type &lt;&gt; ALL</c> keeps from the number of
    /// distinct types alone, and with one or two types in the table it guessed almost none, so it read every unsent due
    /// job of a priority (bitmap scan and sort) to take a batch of them.
    /// A row the client wrote is taken only once checked (<see cref="TakeUnchecked"/>): sent before, a replica could run it.
    /// The unsent part reads one priority at a time (9 down to 0, <see cref="JobLimits.MaxPriority"/>), each a range of
    /// (queue, priority, run_at) that ends at now(): read in one pass ordered by priority and due time, the index scan would
    /// also read every job scheduled for later at a higher priority before reaching the due ones of a lower one.
    /// </summary>
    private const string TakeDueText = """
        /* jobworker:take-due */
        WITH running AS (
            SELECT NOT EXISTS (SELECT FROM queues WHERE name = $1 AND paused_at IS NOT NULL) AS running
        ), overdue AS (
            SELECT id FROM jobs
            WHERE state = 'Pending' AND dispatched_at IS NOT NULL AND queue = $1 AND dispatched_at < now() - $3 AND run_at <= now()
              AND NOT unchecked AND (SELECT running FROM running) /* limited */
            ORDER BY dispatched_at LIMIT $2 FOR UPDATE SKIP LOCKED
        ), unsent AS (
            SELECT u.id FROM generate_series(9, 0, -1) AS p(priority)
            CROSS JOIN LATERAL (
                SELECT id FROM jobs
                WHERE state = 'Pending' AND dispatched_at IS NULL AND queue = $1 AND priority = p.priority AND run_at <= now()
                  AND NOT unchecked AND (SELECT running FROM running) /* limited */
                ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED) u
            LIMIT $2 - (SELECT count(*) FROM overdue)
        )
        UPDATE jobs j SET dispatched_at = now()
        WHERE j.id = ANY (ARRAY(SELECT id FROM overdue UNION ALL SELECT id FROM unsent))
        RETURNING j.id, j.type, j.attempt, j.priority
        """;

    private static readonly ConcurrentDictionary<string, string> TakeDueByLimited = new();

    /// <summary>
    /// <see cref="TakeDueText"/> leaving out <paramref name="limitedTypes"/>, named as constants (escaped, in an
    /// <c>E''</c> literal, which reads the same whatever <c>standard_conforming_strings</c> says). The set is fixed for a
    /// replica's life, so each replica sends one text, which Npgsql prepares as any other.
    /// </summary>
    public static string TakeDue(IReadOnlyCollection<string> limitedTypes)
    {
        var filter = limitedTypes.Count == 0 ? "" : $"AND type <> ALL (ARRAY[{string.Join(", ", limitedTypes.Order(StringComparer.Ordinal).Select(Literal))}]::text[])";
        return TakeDueByLimited.GetOrAdd(filter, static filter => TakeDueText.Replace("/* limited */", filter, StringComparison.Ordinal));
    }

    private static string Literal(string text) => $"E'{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}'";

    /// <summary>
    /// The dispatcher's batch for one limited type $2 of queue $1: due Pending jobs of it, unsent (or sent more than $3 ago
    /// and never claimed), at most the room its limits leave, marked dispatched now, skipping rows another replica is
    /// dispatching. Room: at most $4, and $5 (concurrency) less its Running jobs with a live lease and its jobs sent and not
    /// yet claimed; $7 (rate, per $8) less its starts in the last $8 and those sent; with $6 (per key), no key beyond $6
    /// less its own Running and sent jobs. Each job's claim decides for good (<see cref="ClaimLimited"/>); this only keeps
    /// jobs that would be refused from bouncing between the queue and the ledger. Highest priority first, then in due order.
    /// Like <see cref="TakeDue"/>, never a row the client wrote that no worker has checked yet.
    /// </summary>
    public const string TakeLimited = """
        /* jobworker:take-limited */
        WITH running AS (
            SELECT NOT EXISTS (SELECT FROM queues WHERE name = $1 AND paused_at IS NOT NULL) AS running
        ), busy AS MATERIALIZED (
            SELECT concurrency_key, false AS sent FROM jobs WHERE state = 'Running' AND type = $2 AND lease_expires_at > now()
            UNION ALL
            SELECT concurrency_key, true FROM jobs
            WHERE state = 'Pending' AND dispatched_at IS NOT NULL AND queue = $1 AND dispatched_at >= now() - $3 AND type = $2
        ), room AS MATERIALIZED (
            SELECT greatest(0, least($4::int,
                coalesce($5::int - (SELECT count(*) FROM busy)::int, $4::int),
                coalesce($7::int - (SELECT count(*) FROM job_starts s WHERE s.type = $2 AND s.started_at > now() - $8::interval)::int
                                 - (SELECT count(*) FROM busy WHERE sent)::int, $4::int))) AS n
        ), keys AS MATERIALIZED (
            SELECT concurrency_key, count(*)::int AS used FROM busy WHERE concurrency_key IS NOT NULL GROUP BY concurrency_key
        ), overdue AS (
            SELECT j.id, j.concurrency_key, j.run_at, j.priority FROM jobs j
            WHERE j.state = 'Pending' AND j.dispatched_at IS NOT NULL AND j.queue = $1 AND j.dispatched_at < now() - $3
              AND j.run_at <= now() AND j.type = $2 AND NOT j.unchecked AND (SELECT running FROM running) AND (SELECT n FROM room) > 0
            ORDER BY j.dispatched_at LIMIT $4 FOR UPDATE SKIP LOCKED
        ), unsent AS (
            SELECT j.id, j.concurrency_key, j.run_at, j.priority FROM jobs j
            WHERE j.state = 'Pending' AND j.dispatched_at IS NULL AND j.queue = $1 AND j.run_at <= now() AND j.type = $2
              AND NOT j.unchecked AND (SELECT running FROM running) AND (SELECT n FROM room) > 0
              AND ($6::int IS NULL OR j.concurrency_key IS NULL
                   OR coalesce((SELECT k.used FROM keys k WHERE k.concurrency_key = j.concurrency_key), 0) < $6::int)
            ORDER BY j.priority DESC, j.run_at LIMIT CASE WHEN $6::int IS NULL THEN (SELECT n FROM room) ELSE $4::int END FOR UPDATE SKIP LOCKED
        ), chosen AS (
            SELECT r.id FROM (
                SELECT c.id, c.run_at, c.priority, c.concurrency_key, coalesce(k.used, 0) AS used,
                       row_number() OVER (PARTITION BY c.concurrency_key ORDER BY c.priority DESC, c.run_at, c.id) AS nth
                FROM (SELECT * FROM overdue UNION ALL SELECT * FROM unsent) c
                LEFT JOIN keys k ON k.concurrency_key = c.concurrency_key) r
            WHERE $6::int IS NULL OR r.concurrency_key IS NULL OR r.used + r.nth <= $6::int
            ORDER BY r.priority DESC, r.run_at, r.id
            LIMIT (SELECT n FROM room)
        )
        UPDATE jobs j SET dispatched_at = now()
        WHERE j.id = ANY (ARRAY(SELECT id FROM chosen))
        RETURNING j.id, j.type, j.attempt, j.priority
        """;

    /// <summary>
    /// What limited type $1 uses now, for operators: its Running jobs with a live lease, its due Pending jobs (waiting), its
    /// starts within the last $2 (null: no rate), and the concurrency keys with most running jobs (at most five), with their counts.
    /// </summary>
    public const string LimitUsage = """
        /* jobworker:limit-usage */
        SELECT
            (SELECT count(*) FROM jobs WHERE state = 'Running' AND type = $1 AND lease_expires_at > now())::int AS in_use,
            (SELECT count(*) FROM jobs WHERE state = 'Pending' AND type = $1 AND run_at <= now())::int AS waiting,
            (SELECT count(*) FROM job_starts WHERE type = $1 AND started_at > now() - $2::interval)::int AS starts,
            coalesce(k.keys, '{}') AS keys, coalesce(k.counts, '{}') AS key_counts
        FROM (
            SELECT array_agg(concurrency_key ORDER BY n DESC, concurrency_key) AS keys, array_agg(n ORDER BY n DESC, concurrency_key) AS counts
            FROM (
                SELECT concurrency_key, count(*)::int AS n FROM jobs
                WHERE state = 'Running' AND type = $1 AND lease_expires_at > now() AND concurrency_key IS NOT NULL
                GROUP BY concurrency_key ORDER BY n DESC, concurrency_key LIMIT 5) top) k
        """;

    /// <summary>
    /// One page of the dispatcher's accept step: at most $2 rows of queue $1 that the client's transactional enqueue wrote
    /// and no worker has checked yet (<c>unchecked</c>), after ($3, $4) in (created_at, id) order (null: from the first),
    /// with what the accept checks read. Keyset-paged, so a row left unchecked (its rejection could not be written, or it
    /// moved on since it was read) is not read again by the next page: the acceptor resumes after the last row it read,
    /// tick after tick, and starts again from the oldest once a page comes back short. It reads
    /// ix_jobs_unchecked_queue_created_at, which holds only those rows: nothing at all while there are none. Not locked (a
    /// lock would end with this statement, before any decision is written): each decision's write is fenced on the flag
    /// (<see cref="MarkChecked"/>; a rejection, <see cref="JobOutcome.OnlyIfUnchecked"/>), so of two replicas that read
    /// the same row, the first to write decides it.
    /// </summary>
    public const string TakeUnchecked = $"""
        /* jobworker:take-unchecked */
        SELECT id, type, state, attempt, max_attempts, timeout, run_at, created_at, priority, correlation_id, concurrency_key
        FROM jobs
        WHERE unchecked AND queue = $1
          AND {AfterCreatedAtAndId}
        ORDER BY created_at, id
        LIMIT $2
        """;

    /// <summary>
    /// Jobs $1 passed the accept checks (or were already further along): no longer unchecked, so the dispatcher sends them
    /// when due. Rows are locked in id order (as outcomes lock them), so two replicas marking overlapping batches wait
    /// rather than deadlock. Returns each row this statement changed (none that another replica marked or rejected first)
    /// with its state and, for an Awaiting one, what its parents say now (see <see cref="ParentFacts"/>), so a
    /// continuation whose parents had all finished is decided at once rather than at the releaser's next sweep.
    /// </summary>
    public const string MarkChecked = $"""
        /* jobworker:mark-checked */
        WITH locked AS (
            SELECT id FROM jobs WHERE id = ANY ($1::uuid[]) AND unchecked
            ORDER BY id FOR UPDATE
        ), checked AS (
            UPDATE jobs j SET unchecked = false
            FROM locked WHERE j.id = locked.id AND j.unchecked
            RETURNING j.id, j.type, j.state, j.after_any, j.created_at
        )
        SELECT c.id, c.type, c.state, c.after_any, c.created_at, f.unfinished, f.ended_parent, f.ended_state
        FROM checked c
        CROSS JOIN LATERAL (
            SELECT {ParentFacts}
            FROM job_parents p LEFT JOIN jobs pj ON pj.id = p.parent_id
            WHERE p.job_id = c.id AND c.state = 'Awaiting') f
        """;

    /// <summary>Their SubmitJob could not be sent: marked undispatched, so the next tick sends them again.</summary>
    public const string Undispatch = """
        /* jobworker:undispatch */
        UPDATE jobs SET dispatched_at = NULL WHERE id = ANY($1) AND state = 'Pending'
        """;

    /// <summary>
    /// The relay's sweep: unpublished events of queue $1's jobs whose writer did not confirm them in time, oldest first, at
    /// most $2, claimed for another $3, skipping rows another replica holds.
    /// </summary>
    public const string TakeUnpublishedEvents = """
        /* jobworker:take-events */
        WITH overdue AS (
            SELECT e.job_id, e.kind, e.attempt FROM job_events e JOIN jobs j ON j.id = e.job_id
            WHERE e.published_at IS NULL AND e.relay_after < now() AND j.queue = $1
            ORDER BY e.relay_after LIMIT $2 FOR UPDATE OF e SKIP LOCKED
        )
        UPDATE job_events e SET relay_after = now() + $3
        FROM overdue o, jobs j
        WHERE e.job_id = o.job_id AND e.kind = o.kind AND e.attempt = o.attempt AND j.id = e.job_id
        RETURNING e.job_id, e.kind, e.attempt, j.type, j.queue, j.correlation_id, e.will_retry, e.error, e.worker_id, e.occurred_at,
                  CASE WHEN e.kind = 'Succeeded' THEN j.result::text END AS result, j.started_at
        """;

    /// <summary>The broker confirmed these events: they leave the outbox and stay as the job's history.</summary>
    public const string MarkEventsPublished = """
        /* jobworker:events-published */
        UPDATE job_events e SET published_at = now()
        FROM unnest($1::uuid[], $2::text[], $3::int[]) AS p(job_id, kind, attempt)
        WHERE e.job_id = p.job_id AND e.kind = p.kind AND e.attempt = p.attempt AND e.published_at IS NULL
        """;

    /// <summary>
    /// A submission whose body could not be read, but whose job id $1 could: a Failed row with reason $2 when the job is
    /// unknown, Failed when still Pending, left alone when further along. Returns the row when written.
    /// </summary>
    public const string RejectUnreadable = """
        /* jobworker:reject-unreadable */
        WITH t AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, error, run_at, created_at, finished_at, updated_at)
            VALUES ($1, '(unreadable)', $3, 'null'::jsonb, 'Failed', 0, 1, $2, now(), now(), now(), now())
            ON CONFLICT (id) DO UPDATE
            SET state = 'Failed', error = EXCLUDED.error, dispatched_at = NULL, finished_at = now(), updated_at = now()
            WHERE jobs.state = 'Pending'
            RETURNING id, attempt, error, finished_at
        ), e AS (
            INSERT INTO job_events (job_id, kind, attempt, will_retry, error, occurred_at, relay_after)
            SELECT id, 'Failed', attempt, false, error, finished_at, now() FROM t
            ON CONFLICT (job_id, kind, attempt) DO UPDATE SET error = EXCLUDED.error, occurred_at = EXCLUDED.occurred_at, published_at = NULL
        )
        SELECT id FROM t
        """;

    /// <summary>
    /// This replica's row in <c>workers</c> (id $1, queue $2, slots $3, busy $4, $5 since its last progress, $6 stopped);
    /// forgets replicas not seen for a day.
    /// </summary>
    public const string Heartbeat = """
        /* jobworker:heartbeat */
        WITH forgotten AS (DELETE FROM workers WHERE last_seen_at < now() - interval '1 day')
        INSERT INTO workers (id, queue, slots, busy, started_at, last_seen_at, last_progress_at, stopped_at)
        VALUES ($1, $2, $3, $4, now(), now(), now() - $5, CASE WHEN $6 THEN now() END)
        ON CONFLICT (id) DO UPDATE
        SET busy = EXCLUDED.busy, last_seen_at = now(), last_progress_at = EXCLUDED.last_progress_at, stopped_at = EXCLUDED.stopped_at
        """;

    /// <summary>
    /// The live replicas of queue $1 (a heartbeat within $2, not stopped) and their connections to this database, open and
    /// busy: what <c>submit --wait</c> reports. Replicas of other queues, and clients of other databases on the same server,
    /// are not counted.
    /// </summary>
    public const string ReplicaConnections = """
        /* jobworker:replica-connections */
        SELECT w.id, count(a.pid)::int AS open, (count(a.pid) FILTER (WHERE a.state <> 'idle'))::int AS busy
        FROM workers w
        LEFT JOIN pg_stat_activity a ON a.datname = current_database() AND a.application_name = left('jobworker/' || w.id, 63)
        WHERE w.queue = $1 AND w.stopped_at IS NULL AND w.last_seen_at > now() - $2::interval
        GROUP BY w.id
        """;

    /// <summary>Queue $1 paused by $2 for reason $3 (a pause already in place keeps its time, and takes the new who and why).</summary>
    public const string PauseQueue = """
        /* jobworker:pause-queue */
        INSERT INTO queues (name, paused_at, paused_by, reason) VALUES ($1, now(), $2, $3)
        ON CONFLICT (name) DO UPDATE
        SET paused_at = coalesce(queues.paused_at, now()), paused_by = EXCLUDED.paused_by, reason = EXCLUDED.reason
        RETURNING paused_at
        """;

    /// <summary>Queue $1 runs again; returns the row when it was paused.</summary>
    public const string ResumeQueue = """
        /* jobworker:resume-queue */
        UPDATE queues SET paused_at = NULL, paused_by = NULL, reason = NULL WHERE name = $1 AND paused_at IS NOT NULL
        RETURNING name
        """;

    /// <summary>The operator's pause of queue $1, if any (every replica reads it every tick).</summary>
    public const string QueuePause = """
        /* jobworker:queue-pause */
        SELECT paused_at, paused_by, reason FROM queues WHERE name = $1 AND paused_at IS NOT NULL
        """;

    /// <summary>
    /// One batch of retention: deletes at most $4 jobs of queue $1 in state $2 (a terminal one) that finished more than $3
    /// ago, oldest first; their events go with them (fk_job_events_jobs cascades). It reads ix_jobs_finished_at, and rows
    /// another replica's reaper holds are skipped, not waited for, so replicas share the work without a leader. The batch is a materialized
    /// CTE: as <c>id IN (subquery)</c> the planner may run the LIMITed subquery again per row and delete far more than $4.
    /// A parent that an Awaiting child still names is kept, whatever its age: deleted, it would hold the child for ever
    /// (a missing parent reads as not yet submitted). The check is a probe of ix_job_parents_parent_id per candidate:
    /// <c>OFFSET 0</c> keeps the planner from turning it into an anti-join that hashes <c>job_parents</c> whole.
    /// </summary>
    public const string ReapFinished = """
        /* jobworker:reap */
        WITH doomed AS MATERIALIZED (
            SELECT j.id FROM jobs j
            WHERE j.finished_at < now() - $3 AND j.state = $2 AND j.queue = $1
              AND NOT EXISTS (SELECT FROM job_parents p JOIN jobs c ON c.id = p.job_id WHERE p.parent_id = j.id AND c.state = 'Awaiting' OFFSET 0)
            ORDER BY j.finished_at
            LIMIT $4
            FOR UPDATE OF j SKIP LOCKED)
        DELETE FROM jobs USING doomed WHERE jobs.id = doomed.id
        """;

    /// <summary>
    /// One batch of an operator's purge: deletes at most $2 finished jobs of any queue (and their events) that finished
    /// more than $1 ago, oldest first, skipping rows a reaper holds and parents an Awaiting child still names, as
    /// <see cref="ReapFinished"/> does.
    /// </summary>
    public const string PurgeFinished = """
        /* jobworker:purge */
        WITH doomed AS MATERIALIZED (
            SELECT j.id FROM jobs j
            WHERE j.finished_at < now() - $1 AND j.state IN ('Succeeded', 'Failed', 'Cancelled')
              AND NOT EXISTS (SELECT FROM job_parents p JOIN jobs c ON c.id = p.job_id WHERE p.parent_id = j.id AND c.state = 'Awaiting' OFFSET 0)
            ORDER BY j.finished_at
            LIMIT $2
            FOR UPDATE OF j SKIP LOCKED)
        DELETE FROM jobs USING doomed WHERE jobs.id = doomed.id
        """;

    /// <summary>The database's clock, which schedules are computed from.</summary>
    public const string Now = """
        /* jobworker:now */
        SELECT now() AS now
        """;

    /// <summary>The columns of a schedule as operators see it, with its last job's state.</summary>
    private const string RecurringColumns = """
        r.key, r.queue, r.cron, r.time_zone, r.type, r.payload::text AS payload, r.max_attempts, r.timeout, r.overlap, r.catch_up,
        r.catch_up_window, r.source, r.enabled, r.paused_at, r.paused_by, r.next_run_at, r.last_occurrence_at, r.last_job_id,
        r.last_skipped_at, j.state AS last_state
        """;

    /// <summary>
    /// Start-up: upserts the schedules configuration and code define for queue $1 (arrays $2…$13, one element per
    /// schedule; $13 is the next run computed in code from the database's clock). A schedule that keeps its queue, cron
    /// and zone and was enabled keeps its next run (so a restart neither skips nor repeats an occurrence); any other takes
    /// the new one. An operator's pause stays. A key another queue holds enabled is not taken over (two deployments
    /// defining one key would otherwise move it to whichever started last); an operator's (Runtime) schedule of the same
    /// key is replaced: configuration and code win. Then disables this queue's configuration and code schedules that
    /// neither defines any more, so none is left firing. Returns one row per key to report: 'disabled', 'owned' (left
    /// with the other queue, named) or 'replaced' (was Runtime).
    /// </summary>
    public const string SyncRecurring = """
        /* jobworker:sync-recurring */
        WITH d AS (
            SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::interval[], $9::text[],
                                 $10::text[], $11::interval[], $12::text[], $13::timestamptz[])
                AS d(key, cron, time_zone, type, payload, max_attempts, timeout, overlap, catch_up, catch_up_window, source, next_run_at)
        ), before AS (
            SELECT key, queue, source FROM recurring_jobs WHERE key = ANY ($2::text[])
        ), upserted AS (
            INSERT INTO recurring_jobs (key, queue, cron, time_zone, type, payload, max_attempts, timeout, overlap, catch_up,
                                        catch_up_window, source, enabled, next_run_at, created_at, updated_at)
            SELECT key, $1, cron, time_zone, type, payload::jsonb, max_attempts, timeout, overlap, catch_up, catch_up_window, source,
                   true, next_run_at, now(), now()
            FROM d
            ON CONFLICT (key) DO UPDATE
            SET next_run_at = CASE WHEN recurring_jobs.enabled AND recurring_jobs.queue = EXCLUDED.queue AND recurring_jobs.cron = EXCLUDED.cron
                                        AND recurring_jobs.time_zone = EXCLUDED.time_zone
                                   THEN recurring_jobs.next_run_at ELSE EXCLUDED.next_run_at END,
                queue = EXCLUDED.queue, cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, type = EXCLUDED.type,
                payload = EXCLUDED.payload, max_attempts = EXCLUDED.max_attempts, timeout = EXCLUDED.timeout, overlap = EXCLUDED.overlap,
                catch_up = EXCLUDED.catch_up, catch_up_window = EXCLUDED.catch_up_window, source = EXCLUDED.source, enabled = true,
                updated_at = now()
            WHERE recurring_jobs.queue = EXCLUDED.queue OR NOT recurring_jobs.enabled
            RETURNING key
        ), disabled AS (
            UPDATE recurring_jobs SET enabled = false, updated_at = now()
            WHERE queue = $1 AND source IN ('Configuration', 'Code') AND enabled AND key <> ALL ($2::text[])
            RETURNING key
        )
        SELECT key, 'disabled' AS outcome, $1 AS queue FROM disabled
        UNION ALL
        SELECT b.key, 'owned', b.queue FROM before b WHERE NOT EXISTS (SELECT FROM upserted u WHERE u.key = b.key)
        UNION ALL
        SELECT b.key, 'replaced', b.queue FROM before b JOIN upserted u ON u.key = b.key WHERE b.source = 'Runtime'
        """;

    /// <summary>
    /// Queue $1's schedules that are due by the database's clock, most overdue first, at most $2, but not keys $3 (parked by
    /// this replica after they failed); with that clock.
    /// </summary>
    public const string DueRecurring = """
        /* jobworker:due-recurring */
        SELECT key, cron, time_zone, overlap, catch_up, catch_up_window, next_run_at, now() AS now
        FROM recurring_jobs
        WHERE queue = $1 AND next_run_at <= now() AND enabled AND paused_at IS NULL AND key <> ALL ($3::text[])
        ORDER BY next_run_at LIMIT $2
        """;

    /// <summary>
    /// Claims occurrences of schedule $1 and inserts their jobs, in one statement. The claim is a compare-and-set: the
    /// row moves only if its next run is still $2, so of all the replicas that read the same due row exactly one moves it
    /// (the others' UPDATE re-reads the committed row, no longer matches, and inserts nothing). The jobs (ids $3, derived from
    /// the key and the occurrence, so an insert repeated anyway does nothing) are accepted as any job is: Pending, due now,
    /// unsent, for the dispatcher to send. With $6 (Overlap=Skip), while the schedule's last job is still Pending or Running
    /// nothing is inserted, the row moves to $5 instead of $4 and records the skip of occurrence $7 (with $7 null it only
    /// waits: a catch-up held until the previous job finished, nothing skipped). $10 are the occurrences
    /// of the jobs $3 (the last is recorded as the last occurrence). $8 and $9 are the
    /// defaults for attempts and timeout. Returns one row when claimed, saying whether it skipped and how many jobs it inserted.
    /// </summary>
    public const string FireRecurring = """
        /* jobworker:fire-recurring */
        WITH r AS (
            SELECT key, queue, type, payload, max_attempts, timeout, last_job_id FROM recurring_jobs
            WHERE key = $1 AND next_run_at = $2 AND enabled AND paused_at IS NULL
        ), busy AS (
            SELECT $6::boolean AND EXISTS (SELECT FROM jobs j JOIN r ON j.id = r.last_job_id WHERE j.state IN ('Pending', 'Running')) AS busy
        ), claimed AS (
            UPDATE recurring_jobs s
            SET next_run_at = CASE WHEN b.busy THEN $5::timestamptz ELSE $4::timestamptz END,
                last_occurrence_at = CASE WHEN b.busy THEN coalesce($7::timestamptz, s.last_occurrence_at)
                                          ELSE coalesce(($10::timestamptz[])[cardinality($10::timestamptz[])], s.last_occurrence_at) END,
                last_job_id = CASE WHEN b.busy OR cardinality($3::uuid[]) = 0 THEN s.last_job_id ELSE ($3::uuid[])[cardinality($3::uuid[])] END,
                last_skipped_at = CASE WHEN b.busy AND $7::timestamptz IS NOT NULL THEN now() ELSE s.last_skipped_at END,
                updated_at = now()
            FROM busy b
            WHERE s.key = $1 AND s.next_run_at = $2 AND s.enabled AND s.paused_at IS NULL
            RETURNING b.busy
        ), inserted AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, run_at, created_at, updated_at)
            SELECT f.id, r.type, r.queue, r.payload, 'Pending', 0, coalesce(r.max_attempts, $8), coalesce(r.timeout, $9::interval), now(), now(), now()
            FROM r, claimed c, unnest($3::uuid[]) AS f(id)
            WHERE NOT c.busy
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        )
        SELECT c.busy, (SELECT count(*) FROM inserted) AS inserted FROM claimed c
        """;

    /// <summary>Every schedule (or only key $1), by key, with its last job's state.</summary>
    public const string ListRecurring = $"""
        /* jobworker:list-recurring */
        SELECT {RecurringColumns}
        FROM recurring_jobs r LEFT JOIN jobs j ON j.id = r.last_job_id
        WHERE $1::text IS NULL OR r.key = $1
        ORDER BY r.key
        """;

    /// <summary>Schedule $1 paused by $2 (a pause in place keeps its time); returns the key when it exists.</summary>
    public const string PauseRecurring = """
        /* jobworker:pause-recurring */
        UPDATE recurring_jobs SET paused_at = coalesce(paused_at, now()), paused_by = $2, updated_at = now()
        WHERE key = $1
        RETURNING key
        """;

    /// <summary>
    /// Paused schedule $1 runs again from $2 (its next occurrence after now, computed in code from cron $3 and zone $4):
    /// the occurrences of the pause are not caught up. Only while the cron and zone are still those $2 came from (a start
    /// may have changed them meanwhile). Returns the key when it was resumed.
    /// </summary>
    public const string ResumeRecurring = """
        /* jobworker:resume-recurring */
        UPDATE recurring_jobs SET paused_at = NULL, paused_by = NULL, next_run_at = $2::timestamptz, updated_at = now()
        WHERE key = $1 AND paused_at IS NOT NULL AND cron = $3 AND time_zone = $4
        RETURNING key
        """;

    /// <summary>
    /// An operator's run of enabled schedule $1 now, as job $2, outside its cron: its next run does not move (a disabled
    /// one is no longer defined, so it does not run). Records the job as
    /// the schedule's last. $3 and $4 are the defaults for attempts and timeout. Returns the job's id.
    /// </summary>
    public const string TriggerRecurring = """
        /* jobworker:trigger-recurring */
        WITH inserted AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, run_at, created_at, updated_at)
            SELECT $2, type, queue, payload, 'Pending', 0, coalesce(max_attempts, $3), coalesce(timeout, $4::interval), now(), now(), now()
            FROM recurring_jobs WHERE key = $1 AND enabled
            RETURNING id
        ), recorded AS (
            UPDATE recurring_jobs SET last_job_id = (SELECT id FROM inserted), updated_at = now()
            WHERE key = $1 AND EXISTS (SELECT FROM inserted)
        )
        SELECT id FROM inserted
        """;

    /// <summary>
    /// An operator's schedule (source Runtime) added or replaced: $1 key, $2 queue, $3 cron, $4 zone, $5 type, $6 payload,
    /// $7 next run. A schedule that configuration or code defines is left alone (no row returned): change it there.
    /// </summary>
    public const string AddRecurring = """
        /* jobworker:add-recurring */
        INSERT INTO recurring_jobs (key, queue, cron, time_zone, type, payload, source, enabled, next_run_at, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, 'Runtime', true, $7::timestamptz, now(), now())
        ON CONFLICT (key) DO UPDATE
        SET queue = EXCLUDED.queue, cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, type = EXCLUDED.type, payload = EXCLUDED.payload,
            next_run_at = EXCLUDED.next_run_at, enabled = true, updated_at = now()
        WHERE recurring_jobs.source = 'Runtime'
        RETURNING key
        """;

    /// <summary>Deletes schedule $1 when an operator added it (source Runtime); returns its source when it exists.</summary>
    public const string RemoveRecurring = """
        /* jobworker:remove-recurring */
        WITH gone AS (DELETE FROM recurring_jobs WHERE key = $1 AND source = 'Runtime' RETURNING source)
        SELECT source FROM gone
        UNION ALL
        SELECT source FROM recurring_jobs WHERE key = $1 AND NOT EXISTS (SELECT FROM gone)
        """;
}
