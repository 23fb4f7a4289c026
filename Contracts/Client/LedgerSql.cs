namespace JobWorker.Client;

/// <summary>
/// The statements of the transactional enqueue, tagged <c>/* jobworker:name */</c> like the worker's (Worker/Jobs/JobSql.cs).
/// They store a job as the worker's accept stores one that its dispatcher must send, but <c>unchecked</c>: a worker's
/// dispatcher applies the checks a SubmitJob gets (limits, a handler for the type) at its next tick, and sends the job
/// only once it passed them. A test compares the rows once checked, so a change to the <c>jobs</c> table that forgets
/// these fails it.
/// </summary>
internal static class LedgerSql
{
    /// <summary>
    /// Absent → Pending, unsent and unchecked, due at $8, or after $9, or now (never before now); priority $10, concurrency
    /// key $11. Once the caller commits, a dispatcher checks it, then sends it when it is due.
    /// </summary>
    public const string Enqueue = """
        /* jobworker:client-enqueue */
        INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, run_at, created_at, updated_at, priority, concurrency_key, unchecked)
        SELECT $1, $2, $3, $4::jsonb, 'Pending', 0, $5, $6, $7, greatest(now(), coalesce($8::timestamptz, now() + coalesce($9::interval, interval '0'))), now(), now(), $10, $11, true
        ON CONFLICT (id) DO NOTHING
        """;

    /// <summary>
    /// Absent → Awaiting and unchecked, a continuation held for parents $8 (distinct ids) with policy $9 (any outcome),
    /// priority $10 and concurrency key $11, its parents in <c>job_parents</c>, as the worker's accept-awaiting stores it.
    /// The dispatcher that checks it decides it at once when its parents have finished; else the continuation releaser
    /// does when they finish.
    /// </summary>
    public const string EnqueueAwaiting = """
        /* jobworker:client-enqueue-awaiting */
        WITH inserted AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, timeout, correlation_id, after_any, run_at, created_at, updated_at, priority, concurrency_key, unchecked)
            VALUES ($1, $2, $3, $4::jsonb, 'Awaiting', 0, $5, $6, $7, $9, now(), now(), now(), $10, $11, true)
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        )
        INSERT INTO job_parents (job_id, parent_id)
        SELECT i.id, p.parent_id FROM inserted i CROSS JOIN unnest($8::uuid[]) AS p(parent_id)
        ON CONFLICT DO NOTHING
        """;
}
