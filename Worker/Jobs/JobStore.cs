using System.Diagnostics;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Npgsql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// The ledger's reads and writes for the job lifecycle. Each call creates a short DbContext, runs one statement of
/// <see cref="JobSql"/> on its connection and disposes it before returning, so no connection is held between transitions
/// or while a handler runs. Every call runs in <see cref="TransitionResilience"/>: transient errors are retried, broken
/// pools reset. The store decides nothing: what a job becomes is decided by <see cref="JobLifecycle"/>, and outcomes
/// are applied by <see cref="JobCompleter"/> through <see cref="ApplyAsync"/>.
/// </summary>
internal sealed class JobStore(IDbContextFactory<JobDbContext> contexts, TransitionResilience resilience, IOptions<DispatchOptions> dispatch)
{
    /// <summary>How long the writer of an event has to publish it itself before any relay may (<c>Dispatch:EventRetryAfter</c>).</summary>
    private TimeSpan RelayAfter => dispatch.Value.EventRetryAfter;

    /// <summary>Absent → Pending. Idempotent on the job id: null when the row already existed, else whether the job is due now.</summary>
    public Task<bool?> AcceptAsync(NewJob job, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("accept", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var due = await db.QueryAsync(JobSql.Accept, job, static (p, job) =>
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
                p.AddValue((short)job.Priority);
                p.AddValue(job.ConcurrencyKey);
            }, static r => JobRows.Value<bool>(r, "due"), ct);
            return due.Count == 1 ? due[0] : (bool?)null;
        }, cancellationToken, job.Id);

    /// <summary>
    /// Absent → Awaiting: a continuation held for its parents (<see cref="NewJob.After"/>), stored with them in one
    /// statement. Returns the new row with what its parents said at accept (so a child whose parents all finished already
    /// can be decided at once); null when the row already existed (its parents are left as they were).
    /// </summary>
    public Task<AwaitingJob?> AcceptAwaitingAsync(NewJob job, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("accept-awaiting", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var inserted = await db.QueryAsync(JobSql.AcceptAwaiting, job, static (p, job) =>
            {
                p.AddValue(job.Id);
                p.AddValue(job.Type);
                p.AddValue(job.Queue);
                p.AddValue(job.PayloadJson);
                p.AddValue(job.MaxAttempts);
                p.AddValue(job.Timeout);
                p.AddValue(job.CorrelationId);
                p.AddValue((job.After ?? []).Distinct().ToArray());
                p.AddValue(job.AfterAny);
                p.AddValue((short)job.Priority);
                p.AddValue(job.ConcurrencyKey);
            }, ReadAwaiting, ct);
            return inserted.SingleOrDefault();
        }, cancellationToken, job.Id);

    /// <summary>
    /// Awaiting jobs of <paramref name="queue"/> with a parent that finished within <paramref name="window"/> and whose
    /// parents may decide them now, oldest first, at most <paramref name="batch"/>: the continuation releaser's candidates
    /// between sweeps (see <see cref="JobLifecycle.Continue"/>).
    /// </summary>
    public Task<List<AwaitingJob>> AwaitingRecentAsync(string queue, int batch, TimeSpan window, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("awaiting-recent", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.AwaitingRecent, (queue, batch, window), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.batch);
                p.AddValue(s.window);
            }, ReadAwaiting, ct);
        }, cancellationToken);

    /// <summary>
    /// One page of the releaser's sweep: at most <paramref name="page"/> Awaiting jobs of <paramref name="queue"/> after
    /// <paramref name="after"/> (the last one of the previous page; null for the first), ready or not, in (created, id) order.
    /// </summary>
    public Task<List<AwaitingJob>> AwaitingSweepAsync(string queue, int page, AwaitingJob? after, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("awaiting-sweep", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.AwaitingSweep, (queue, page, after), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.page);
                p.AddValue(s.after?.CreatedAt);
                p.AddValue(s.after?.Id);
            }, ReadAwaiting, ct);
        }, cancellationToken);

    private static AwaitingJob ReadAwaiting(NpgsqlDataReader r) => new(
        JobRows.Value<Guid>(r, "id"), JobRows.Value<string>(r, "type"), JobRows.Value<bool>(r, "after_any"),
        JobRows.Value<int>(r, "unfinished"), JobRows.Nullable<Guid>(r, "ended_parent"),
        JobRows.Text(r, "ended_state") is { } ended ? Enum.Parse<JobState>(ended) : null)
    {
        CreatedAt = JobRows.Value<DateTime>(r, "created_at"),
    };

    /// <summary>A continuation's parents, each with its state (null for one not yet submitted), by id; empty for any other job.</summary>
    public Task<List<JobRelative>> ParentsAsync(Guid id, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("parents", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.Parents, id, static (p, id) => p.AddValue(id), static r => new JobRelative(
                JobRows.Value<Guid>(r, "parent_id"),
                JobRows.Text(r, "state") is { } state ? Enum.Parse<JobState>(state) : null), ct);
        }, cancellationToken, id);

    /// <summary>
    /// A new job due now, accepted and claimed in one statement with <paramref name="owner"/>, a lease and
    /// <paramref name="token"/>. Returns whether the row was new, and the claimed row (without its payload: the caller
    /// has it), or null when the job is not claimable. A retry whose reply was lost finds its own token.
    /// </summary>
    public Task<(bool Accepted, Job? Claimed)> AcceptAndClaimAsync(NewJob job, string owner, Guid token, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("accept-claim", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.QueryAsync(JobSql.AcceptAndClaim, (job, owner, token, lease, RelayAfter), static (p, s) =>
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
                p.AddValue((short)s.job.Priority);
                p.AddValue(s.job.ConcurrencyKey);
            }, static r => (Accepted: JobRows.Value<bool>(r, "accepted"), Job: JobRows.Claimed(r)), ct);
            return rows.Count == 0 ? (false, null) : (rows[0].Accepted, rows[0].Job);
        }, cancellationToken, job.Id);

    /// <summary>
    /// A job in the ledger, Pending and due → Running with <paramref name="owner"/>, a lease and <paramref name="token"/>.
    /// Returns the claimed row with its payload as stored, or null when the job is not claimable.
    /// </summary>
    public Task<Job?> ClaimAsync(Guid id, string owner, Guid token, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("claim", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var claimed = await db.QueryAsync(JobSql.Claim, (id, owner, token, lease, RelayAfter), static (p, s) =>
            {
                p.AddValue(s.id);
                p.AddValue(s.owner);
                p.AddValue(s.token);
                p.AddValue(s.lease);
                p.AddValue(s.RelayAfter);
            }, JobRows.Claimed, ct);
            return claimed.Count > 0 ? claimed[0] : null;
        }, cancellationToken, id);

    /// <summary>
    /// <see cref="ClaimAsync"/> for a job whose type has fleet-wide limits (<paramref name="rule"/>): under the type's (or
    /// key's) advisory lock, in one round trip, claimed only while the limits have room. Returns the claimed row, or the
    /// row held by a limit (Pending and unsent) with the limit's name, or neither when the job is not claimable.
    /// </summary>
    public Task<LimitedClaim> ClaimLimitedAsync(Guid id, LimitRule rule, string owner, Guid token, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("claim-limited", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.QueryAfterAsync(JobSql.LimitLock, JobSql.ClaimLimited, (id, rule, owner, token, lease, RelayAfter), static (locking, p, s) =>
            {
                locking.AddValue(s.id);
                locking.AddValue(s.rule.LocksType);
                p.AddValue(s.id);
                p.AddValue(s.owner);
                p.AddValue(s.token);
                p.AddValue(s.lease);
                p.AddValue(s.RelayAfter);
                p.AddValue(s.rule.Concurrency);
                p.AddValue(s.rule.PerKeyConcurrency);
                p.AddValue(s.rule.Rate?.Count);
                p.AddValue(s.rule.Rate?.Interval);
            }, static r => new LimitedClaim(JobRows.Claimed(r), JobRows.Text(r, "limited")), ct);
            return rows.Count > 0 ? rows[0] : new LimitedClaim(null, null);
        }, cancellationToken, id);

    /// <summary>
    /// Due Pending jobs of limited <paramref name="rule"/>'s type in <paramref name="queue"/>, at most the room its limits
    /// leave now, marked dispatched: the dispatcher's take for that type.
    /// </summary>
    public Task<List<DueJob>> TakeLimitedAsync(string queue, LimitRule rule, int batch, TimeSpan redispatchAfter, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("take-limited", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.TakeLimited, (queue, rule, batch, redispatchAfter), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.rule.Type);
                p.AddValue(s.redispatchAfter);
                p.AddValue(s.batch);
                p.AddValue(s.rule.Concurrency);
                p.AddValue(s.rule.PerKeyConcurrency);
                p.AddValue(s.rule.Rate?.Count);
                p.AddValue(s.rule.Rate?.Interval);
            }, static r => new DueJob(JobRows.Value<Guid>(r, "id"), JobRows.Value<string>(r, "type"), JobRows.Value<int>(r, "attempt"))
            {
                Priority = JobRows.Value<short>(r, "priority"),
            }, ct);
        }, cancellationToken);

    /// <summary>What limited <paramref name="rule"/>'s type uses now (places, waiting jobs, starts in the window, busiest keys).</summary>
    public Task<LimitUsage> LimitUsageAsync(LimitRule rule, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("limit-usage", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.QueryAsync(JobSql.LimitUsage, rule, static (p, rule) =>
            {
                p.AddValue(rule.Type);
                p.AddValue(rule.Rate?.Interval);
            }, r => new LimitUsage(
                rule, JobRows.Value<int>(r, "in_use"), JobRows.Value<int>(r, "waiting"), JobRows.Value<int>(r, "starts"),
                [.. JobRows.Value<string[]>(r, "keys").Zip(JobRows.Value<int[]>(r, "key_counts"), (key, count) => new KeyUsage(key, count))]), ct);
            return rows[0];
        }, cancellationToken);

    /// <summary>The claim made with <paramref name="token"/>, if it committed, with its lease extended; null when it did not.</summary>
    public Task<Job?> FindClaimAsync(Guid id, Guid token, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("find-claim", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var claimed = await db.QueryAsync(JobSql.FindClaim, (id, token, lease), static (p, s) =>
            {
                p.AddValue(s.id);
                p.AddValue(s.token);
                p.AddValue(s.lease);
            }, JobRows.Claimed, ct);
            return claimed.Count > 0 ? claimed[0] : null;
        }, cancellationToken, id);

    /// <summary>Where a job is, read without its payload or result; null when unknown.</summary>
    public Task<JobLocation?> LocateAsync(Guid id, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("locate", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.QueryAsync(JobSql.Locate, id, static (p, id) => p.AddValue(id), static r => new JobLocation(
                JobRows.Value<Guid>(r, "id"), JobRows.Value<string>(r, "type"), Enum.Parse<JobState>(JobRows.Value<string>(r, "state")),
                JobRows.Value<int>(r, "attempt"), JobRows.Value<int>(r, "max_attempts"), JobRows.Text(r, "owner"), JobRows.Value<DateTime>(r, "run_at"))
            {
                Unchecked = JobRows.Value<bool>(r, "unchecked"),
            }, ct);
            return rows.Count > 0 ? rows[0] : null;
        }, cancellationToken, id);

    /// <summary>
    /// Applies <paramref name="outcomes"/> in one statement (at most one per job), each fenced on its own. Returns, in the
    /// order given, what each applied (the state written and its event), or null for one whose row had moved on.
    /// </summary>
    public Task<AppliedOutcome?[]> ApplyAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken, IReadOnlyList<ActivityContext>? traces = null) =>
        resilience.ExecuteAsync("apply-outcomes", async ct =>
        {
            var errors = outcomes.Select(o => StoredText.Clean(o.Error)).ToArray();
            var results = outcomes.Select(o => StoredText.CleanJson(o.ResultJson)).ToArray();
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.QueryAsync(JobSql.ApplyOutcomes, (outcomes, errors, results, RelayAfter), static (p, s) =>
            {
                p.AddValue(s.outcomes.Select(o => o.JobId).ToArray());
                p.AddValue(s.outcomes.Select(o => o.From.ToString()).ToArray());
                p.AddValue(s.outcomes.Select(o => o.Attempt).ToArray());
                p.AddValue(s.outcomes.Select(o => o.Owner).ToArray());
                p.AddValue(s.outcomes.Select(o => o.OnlyIfLeaseLapsed).ToArray());
                p.AddValue(s.outcomes.Select(o => o.To.ToString()).ToArray());
                p.AddValue(s.outcomes.Select(o => o.RetryAfter).ToArray());
                p.AddValue(s.outcomes.Select(o => o.MaxAttempts).ToArray());
                p.AddValue(s.errors);
                p.AddValue(s.results);
                p.AddValue(s.outcomes.Select(o => o.Event.ToString()).ToArray());
                p.AddValue(s.RelayAfter);
                p.AddValue(s.outcomes.Select(o => o.EndedParent).ToArray());
                p.AddValue(s.outcomes.Select(o => o.OnlyIfUnchecked).ToArray());
            }, static r => (Ord: JobRows.Value<long>(r, "ord"), State: Enum.Parse<JobState>(JobRows.Value<string>(r, "state")), Event: new OutboxEvent
            {
                JobId = JobRows.Value<Guid>(r, "id"),
                Kind = JobRows.Value<string>(r, "event_kind"),
                JobType = JobRows.Value<string>(r, "type"),
                Queue = JobRows.Value<string>(r, "queue"),
                CorrelationId = JobRows.Nullable<Guid>(r, "correlation_id"),
                StartedAt = JobRows.Nullable<DateTime>(r, "started_at"),
                Error = JobRows.Text(r, "event_error"),
                OccurredAt = JobRows.Value<DateTime>(r, "occurred_at"),
            }), ct);
            var byPosition = written.ToDictionary(w => (int)w.Ord - 1);
            var applied = new AppliedOutcome?[outcomes.Count];
            for (var i = 0; i < applied.Length; i++)
            {
                var outcome = outcomes[i];
                if (byPosition.TryGetValue(i, out var row))
                {
                    row.Event.Attempt = outcome.Attempt;
                    row.Event.WillRetry = row.Event.EventKind == JobEventKind.Retrying;
                    row.Event.Result = row.Event.EventKind == JobEventKind.Succeeded ? results[i] : null;
                    applied[i] = new AppliedOutcome(outcome, row.State, row.Event);
                }
            }

            return applied;
        }, cancellationToken, outcomes.Count == 1 ? outcomes[0].JobId : null, traces);

    /// <summary>
    /// A CancelJob: a Pending job (due or scheduled) → Cancelled, an unknown one gets a Cancelled tombstone in
    /// <paramref name="queue"/> (so a SubmitJob that arrives later never runs); either way JobCancelled is recorded. A
    /// Running job gets the request: its owner stops it, or recovery ends it Cancelled. Returns the state afterwards, or
    /// null when the job had already finished.
    /// </summary>
    public Task<JobState?> RequestCancelAsync(Guid id, string reason, string queue, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync<JobState?>("request-cancel", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var states = await db.QueryAsync(JobSql.RequestCancel, (id, reason: StoredText.Clean(reason)!, queue), static (p, s) =>
            {
                p.AddValue(s.id);
                p.AddValue(s.reason);
                p.AddValue(s.queue);
            }, static r => Enum.Parse<JobState>(JobRows.Value<string>(r, "state")), ct);
            return states.Count == 0 ? null : states[0];
        }, cancellationToken, id);

    /// <summary>
    /// Extends the leases of the attempts <paramref name="owner"/> runs right now, in one statement. Returns those still
    /// Running under this owner at that attempt, with any cancel requested; an attempt missing from the answer is not its own.
    /// </summary>
    public Task<List<LeaseRenewal>> RenewLeasesAsync(string owner, IReadOnlyCollection<(Guid JobId, int Attempt)> running, TimeSpan lease, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("renew-leases", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.RenewLeases, (owner, running, lease), static (p, s) =>
            {
                p.AddValue(s.owner);
                p.AddValue(s.running.Select(r => r.JobId).ToArray());
                p.AddValue(s.running.Select(r => r.Attempt).ToArray());
                p.AddValue(s.lease);
            }, static r => new LeaseRenewal(JobRows.Value<Guid>(r, "id"), JobRows.Value<int>(r, "attempt"), JobRows.Text(r, "cancel_reason")), ct);
        }, cancellationToken);

    /// <summary>
    /// Writes the latest progress of attempts running under <paramref name="owner"/>, in one statement, each fenced by
    /// its attempt. Returns the attempts written; one missing from the answer is no longer this owner's.
    /// </summary>
    public Task<List<(Guid JobId, int Attempt)>> WriteProgressAsync(string owner, IReadOnlyList<(Guid JobId, int Attempt, JobProgress Progress)> reports, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("write-progress", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.WriteProgress, (owner, reports), static (p, s) =>
            {
                p.AddValue(s.reports.Select(r => r.JobId).ToArray());
                p.AddValue(s.reports.Select(r => r.Attempt).ToArray());
                p.AddValue(s.reports.Select(r => r.Progress.Completed).ToArray());
                p.AddValue(s.reports.Select(r => r.Progress.Total).ToArray());
                p.AddValue(s.reports.Select(r => r.Progress.Message).ToArray());
                p.AddValue(s.owner);
            }, static r => (JobRows.Value<Guid>(r, "id"), JobRows.Value<int>(r, "attempt")), ct);
        }, cancellationToken, reports.Count == 1 ? reports[0].JobId : null);

    /// <summary>Saves a checkpoint (compact JSON) on the job's row while the attempt still runs under <paramref name="owner"/>; false when it does not.</summary>
    public Task<bool> SaveCheckpointAsync(Guid id, int attempt, string owner, string json, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("save-checkpoint", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.QueryAsync(JobSql.SaveCheckpoint, (id, attempt, owner, json), static (p, s) =>
            {
                p.AddValue(s.id);
                p.AddValue(s.attempt);
                p.AddValue(s.owner);
                p.AddValue(s.json);
            }, static r => JobRows.Value<Guid>(r, "id"), ct);
            return written.Count == 1;
        }, cancellationToken, id);

    /// <summary>Running jobs of <paramref name="queue"/> whose lease lapsed, oldest first: the rescuer's candidates.</summary>
    public Task<List<LapsedJob>> LapsedAsync(string queue, int batch, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("lapsed", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.Lapsed, (queue, batch), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.batch);
            }, static r => new LapsedJob(
                JobRows.Value<Guid>(r, "id"), JobRows.Value<string>(r, "type"), JobRows.Value<int>(r, "attempt"),
                JobRows.Value<int>(r, "max_attempts"), JobRows.Text(r, "owner"), JobRows.Text(r, "cancel_reason")), ct);
        }, cancellationToken);

    /// <summary>
    /// Due Pending jobs of <paramref name="queue"/> with no message queued (or one sent longer than
    /// <paramref name="redispatchAfter"/> ago and never claimed), marked dispatched now, except those of
    /// <paramref name="limitedTypes"/> (see <see cref="TakeLimitedAsync"/>). The caller sends each.
    /// </summary>
    public Task<List<DueJob>> TakeDueAsync(string queue, int batch, TimeSpan redispatchAfter, CancellationToken cancellationToken, string[]? limitedTypes = null) =>
        resilience.ExecuteAsync("take-due", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.TakeDue(limitedTypes ?? []), (queue, batch, redispatchAfter), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.batch);
                p.AddValue(s.redispatchAfter);
            }, static r => new DueJob(JobRows.Value<Guid>(r, "id"), JobRows.Value<string>(r, "type"), JobRows.Value<int>(r, "attempt"))
            {
                Priority = JobRows.Value<short>(r, "priority"),
            }, ct);
        }, cancellationToken);

    /// <summary>
    /// At most <paramref name="batch"/> rows of <paramref name="queue"/> the client's transactional enqueue wrote and no
    /// worker has checked yet, in (created_at, id) order after <paramref name="after"/> (null: from the first). A row whose
    /// values cannot be read comes back with the reason, never failing the rest.
    /// </summary>
    public Task<List<UncheckedJob>> TakeUncheckedAsync(string queue, int batch, (DateTime CreatedAt, Guid Id)? after, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("take-unchecked", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.TakeUnchecked, (queue, batch, after), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.batch);
                p.AddValue(s.after?.CreatedAt);
                p.AddValue(s.after?.Id);
            }, ReadUnchecked, ct);
        }, cancellationToken);

    private static UncheckedJob ReadUnchecked(NpgsqlDataReader r)
    {
        var (id, type, state) = (JobRows.Value<Guid>(r, "id"), JobRows.Value<string>(r, "type"), JobRows.Value<string>(r, "state"));
        var (attempt, created) = (JobRows.Value<int>(r, "attempt"), JobRows.Value<DateTime>(r, "created_at"));
        try
        {
            // What the accept checks read, as a SubmitJob would have asked: the due time as an absolute RunAt, judged against
            // the time of the enqueue (created_at), so the job gets the schedule limit its submitter got.
            var job = new NewJob(
                id, type, PayloadJson: "null", JobRows.Value<int>(r, "max_attempts"), JobRows.Nullable<TimeSpan>(r, "timeout"),
                JobRows.Nullable<Guid>(r, "correlation_id"), RunAt: JobRows.Value<DateTime>(r, "run_at"),
                Priority: JobRows.Value<short>(r, "priority"), ConcurrencyKey: JobRows.Text(r, "concurrency_key"));
            return new UncheckedJob(id, type, state, attempt, created, job, null);
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException)
        {
            // A value written by hand (an interval in months, say): the job fails with the reason, the batch goes on.
            return new UncheckedJob(id, type, state, attempt, created, null, e.Message);
        }
    }

    /// <summary>
    /// Jobs <paramref name="ids"/> are checked: no longer unchecked, so they are sent when due. Returns those this call
    /// marked (not those another replica marked first), each with its state and, for an Awaiting one, what its parents say.
    /// </summary>
    public Task<List<(JobState State, AwaitingJob Job)>> MarkCheckedAsync(Guid[] ids, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("mark-checked", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.MarkChecked, ids, static (p, ids) => p.AddValue(ids),
                static r => (Enum.Parse<JobState>(JobRows.Value<string>(r, "state")), ReadAwaiting(r)), ct);
        }, cancellationToken);

    /// <summary>Their SubmitJob could not be sent: marked undispatched, so the next tick tries again.</summary>
    public Task<int> UndispatchAsync(Guid[] ids, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("undispatch", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.ExecuteAsync(JobSql.Undispatch, ids, static (p, ids) => p.AddValue(ids), ct);
        }, cancellationToken);

    /// <summary>
    /// The relay's sweep: recorded events of <paramref name="queue"/>'s jobs whose writer did not confirm them in time,
    /// claimed for another <c>Dispatch:EventRetryAfter</c>, oldest first.
    /// </summary>
    public Task<List<OutboxEvent>> TakeUnpublishedEventsAsync(string queue, int batch, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("take-events", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.TakeUnpublishedEvents, (queue, batch, RelayAfter), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.batch);
                p.AddValue(s.RelayAfter);
            }, static r => new OutboxEvent
            {
                JobId = JobRows.Value<Guid>(r, "job_id"),
                Kind = JobRows.Value<string>(r, "kind"),
                Attempt = JobRows.Value<int>(r, "attempt"),
                JobType = JobRows.Value<string>(r, "type"),
                Queue = JobRows.Value<string>(r, "queue"),
                CorrelationId = JobRows.Nullable<Guid>(r, "correlation_id"),
                WillRetry = JobRows.Value<bool>(r, "will_retry"),
                Error = JobRows.Text(r, "error"),
                WorkerId = JobRows.Text(r, "worker_id"),
                OccurredAt = JobRows.Value<DateTime>(r, "occurred_at"),
                Result = JobRows.Text(r, "result"),
                StartedAt = JobRows.Nullable<DateTime>(r, "started_at"),
            }, ct);
        }, cancellationToken);

    /// <summary>The broker confirmed these events: they leave the outbox and stay as the job's history. One statement.</summary>
    public Task<int> MarkEventsPublishedAsync(IReadOnlyCollection<OutboxEvent> published, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("events-published", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.ExecuteAsync(JobSql.MarkEventsPublished, published, static (p, published) =>
            {
                p.AddValue(published.Select(e => e.JobId).ToArray());
                p.AddValue(published.Select(e => e.Kind).ToArray());
                p.AddValue(published.Select(e => e.Attempt).ToArray());
            }, ct);
        }, cancellationToken);

    /// <summary>
    /// A submission whose body could not be read, but whose job id could: Failed with the reason. Stores a Failed row in
    /// <paramref name="queue"/> when the job is unknown, fails it when still Pending, and leaves a job further along alone.
    /// </summary>
    public Task<bool> RejectUnreadableAsync(Guid id, string error, string queue, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("reject-unreadable", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var written = await db.QueryAsync(JobSql.RejectUnreadable, (id, error: StoredText.Clean(error)!, queue), static (p, s) =>
            {
                p.AddValue(s.id);
                p.AddValue(s.error);
                p.AddValue(s.queue);
            }, static r => JobRows.Value<Guid>(r, "id"), ct);
            return written.Count == 1;
        }, cancellationToken, id);

    /// <summary>
    /// Deletes at most <paramref name="batchSize"/> jobs of <paramref name="queue"/> in the terminal <paramref name="state"/>
    /// that finished more than <paramref name="olderThan"/> ago, with their events; returns how many.
    /// </summary>
    public Task<int> ReapFinishedAsync(string queue, JobState state, TimeSpan olderThan, int batchSize, CancellationToken cancellationToken)
    {
        if (!state.IsTerminal())
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "Only finished jobs are deleted.");
        }

        return resilience.ExecuteAsync("reap", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.ExecuteAsync(JobSql.ReapFinished, (queue, state: state.ToString(), olderThan, batchSize), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.state);
                p.AddValue(s.olderThan);
                p.AddValue(s.batchSize);
            }, ct);
        }, cancellationToken);
    }

    /// <summary>
    /// Deletes finished jobs (Succeeded, Failed, Cancelled) that finished more than <paramref name="olderThan"/> ago, in
    /// batches of <paramref name="batchSize"/>, each its own short transaction, so a large purge never holds a million
    /// row locks or stalls the write path; returns how many.
    /// </summary>
    public async Task<int> PurgeFinishedAsync(TimeSpan olderThan, CancellationToken cancellationToken, int batchSize = 1000)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await resilience.ExecuteAsync("purge", async ct =>
            {
                await using var db = await contexts.CreateDbContextAsync(ct);
                return await db.ExecuteAsync(JobSql.PurgeFinished, (olderThan, batchSize), static (p, s) =>
                {
                    p.AddValue(s.olderThan);
                    p.AddValue(s.batchSize);
                }, ct);
            }, cancellationToken);
            total += deleted;
        }
        while (deleted == batchSize);

        return total;
    }

    /// <summary>The whole row, for status answers and tools.</summary>
    public Task<Job?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("find", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.Jobs.AsNoTracking().TagWith("jobworker:find").SingleOrDefaultAsync(j => j.Id == id, ct);
        }, cancellationToken);

    /// <summary>At most <paramref name="limit"/> Failed jobs <paramref name="filter"/> matches (one when <paramref name="id"/> is given), for an operator's retry.</summary>
    public Task<List<JobLocation>> FailedMatchingAsync(Guid? id, JobFilter filter, int limit, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("failed-matching", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var failed = filter.Apply(db.Jobs.AsNoTracking().TagWith("jobworker:failed-matching").Where(j => j.State == JobState.Failed));
            if (id is { } one)
            {
                failed = failed.Where(j => j.Id == one);
            }

            return await failed
                .OrderBy(j => j.Id)
                .Take(limit)
                .Select(j => new JobLocation(j.Id, j.Type, j.State, j.Attempt, j.MaxAttempts, j.Owner, j.RunAt))
                .ToListAsync(ct);
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
}

/// <summary>Where a job is, without its payload or result.</summary>
internal sealed record JobLocation(Guid Id, string Type, JobState State, int Attempt, int MaxAttempts, string? Owner, DateTime RunAt)
{
    /// <summary>
    /// Written by the client's transactional enqueue and not yet checked by a worker's dispatcher: never claimed before.
    /// Read by <see cref="JobStore.LocateAsync"/> only; other readers leave it false.
    /// </summary>
    public bool Unchecked { get; init; }
}

/// <summary>
/// An Awaiting continuation the releaser may decide: its policy, how many of its parents have not finished (or not
/// arrived), and the first parent that ended Failed or Cancelled, if any.
/// </summary>
internal sealed record AwaitingJob(Guid Id, string Type, bool AfterAny, int Unfinished, Guid? EndedParent, JobState? EndedParentState)
{
    /// <summary>When it was accepted: the releaser's sweep pages on (created, id).</summary>
    public DateTime CreatedAt { get; init; }
}

/// <summary>A continuation's parent, or a parent's continuation, and its state; null while no job with that id exists.</summary>
internal sealed record JobRelative(Guid Id, JobState? State)
{
    public bool IsFinished => State?.IsTerminal() == true;
}

/// <summary>A Running job whose lease lapsed, as the rescuer sees it.</summary>
internal sealed record LapsedJob(Guid Id, string Type, int Attempt, int MaxAttempts, string? Owner, string? CancelReason);

/// <summary>A limited claim's answer: the claimed row; or the row a limit held, and the limit's name; or neither.</summary>
internal sealed record LimitedClaim(Job? Row, string? Limit)
{
    /// <summary>The claimed row; null when a limit held the job or it was not claimable.</summary>
    public Job? Claimed => Limit is null ? Row : null;
}

/// <summary>What a limited type uses now, as operators see it.</summary>
internal sealed record LimitUsage(LimitRule Rule, int InUse, int Waiting, int StartsInWindow, IReadOnlyList<KeyUsage> Keys);

/// <summary>A concurrency key and how many jobs of it run now.</summary>
internal sealed record KeyUsage(string Key, int Running);

/// <summary>A due job the dispatcher sends: its id and type, never its payload.</summary>
internal sealed record DueJob(Guid Id, string Type, int Attempt)
{
    /// <summary>0 to 9: the message's priority, so the queue and the receiving replica's slots keep the ledger's order.</summary>
    public int Priority { get; init; }
}

/// <summary>One attempt whose lease was renewed, and the cancel requested for it, if any.</summary>
internal sealed record LeaseRenewal(Guid JobId, int Attempt, string? CancelReason);

/// <summary>An outcome that was applied: the state it wrote (a requested cancel may have overridden it) and its event.</summary>
internal sealed record AppliedOutcome(JobOutcome Outcome, JobState State, OutboxEvent Event);
