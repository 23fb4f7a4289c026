using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore;

namespace JobWorker.Jobs;

/// <summary>
/// The ledger's reads and writes for recurring schedules: one statement of <see cref="JobSql"/> per call, on a short
/// DbContext, inside <see cref="TransitionResilience"/>. It decides nothing: <see cref="RecurringPlanner"/> does.
/// </summary>
internal sealed class RecurringStore(IDbContextFactory<JobDbContext> contexts, TransitionResilience resilience)
{
    /// <summary>The database's clock.</summary>
    public Task<DateTime> NowAsync(CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("now", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.QueryAsync(JobSql.Now, 0, static (_, _) => { }, static r => JobRows.Value<DateTime>(r, "now"), ct);
            return rows[0];
        }, cancellationToken);

    /// <summary>
    /// Upserts <paramref name="definitions"/> for <paramref name="queue"/> (each with its next run from now, used when the
    /// stored one cannot be kept) and disables this queue's configuration and code schedules not among them. Returns the
    /// keys to report, each with what became of it (see <see cref="JobSql.SyncRecurring"/>) and the queue that has it.
    /// </summary>
    public Task<List<(string Key, string Outcome, string Queue)>> SyncAsync(string queue, IReadOnlyList<(RecurringDefinition Definition, DateTime? NextRunAt)> definitions, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("sync-recurring", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.SyncRecurring, (queue, definitions), static (p, s) =>
            {
                var d = s.definitions;
                p.AddValue(s.queue);
                p.AddValue(d.Select(x => x.Definition.Key).ToArray());
                p.AddValue(d.Select(x => x.Definition.Cron.Trim()).ToArray());
                p.AddValue(d.Select(x => x.Definition.TimeZone.Trim()).ToArray());
                p.AddValue(d.Select(x => x.Definition.Type).ToArray());
                p.AddValue(d.Select(x => x.Definition.PayloadJson).ToArray());
                p.AddValue(d.Select(x => x.Definition.MaxAttempts).ToArray());
                p.AddValue(d.Select(x => x.Definition.Timeout).ToArray());
                p.AddValue(d.Select(x => x.Definition.Overlap.ToString()).ToArray());
                p.AddValue(d.Select(x => x.Definition.CatchUp.ToString()).ToArray());
                p.AddValue(d.Select(x => x.Definition.CatchUpWindow).ToArray());
                p.AddValue(d.Select(x => x.Definition.Source.ToString()).ToArray());
                p.AddValue(d.Select(x => x.NextRunAt).ToArray());
            }, static r => (JobRows.Value<string>(r, "key"), JobRows.Value<string>(r, "outcome"), JobRows.Value<string>(r, "queue")), ct);
        }, cancellationToken);

    /// <summary>
    /// Schedules of <paramref name="queue"/> due by the database's clock, most overdue first, but not the keys
    /// <paramref name="parked"/>. A row whose overlap or catch-up cannot be read comes back with its problem instead, so
    /// one bad row does not fail the read of the others.
    /// </summary>
    public Task<List<(string Key, DueSchedule? Schedule, string? Problem)>> DueAsync(
        string queue, int limit, IReadOnlyCollection<string> parked, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("due-recurring", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            return await db.QueryAsync(JobSql.DueRecurring, (queue, limit, parked), static (p, s) =>
            {
                p.AddValue(s.queue);
                p.AddValue(s.limit);
                p.AddValue(s.parked.ToArray());
            }, static r =>
            {
                var key = JobRows.Value<string>(r, "key");
                var overlap = JobRows.Value<string>(r, "overlap");
                var catchUp = JobRows.Value<string>(r, "catch_up");
                if (!Enum.TryParse<RecurringOverlap>(overlap, out var o) || !Enum.IsDefined(o)
                    || !Enum.TryParse<RecurringCatchUp>(catchUp, out var c) || !Enum.IsDefined(c))
                {
                    return (key, (DueSchedule?)null, (string?)$"overlap '{overlap}' or catch_up '{catchUp}' is not a known value");
                }

                return (key, new DueSchedule(
                    key, JobRows.Value<string>(r, "cron"), JobRows.Value<string>(r, "time_zone"), o, c,
                    JobRows.Nullable<TimeSpan>(r, "catch_up_window"), JobRows.Value<DateTime>(r, "next_run_at"), JobRows.Value<DateTime>(r, "now")), null);
            }, ct);
        }, cancellationToken);

    /// <summary>Applies <paramref name="plan"/>: null when another replica claimed it first, else whether it skipped and how many jobs it inserted.</summary>
    public Task<(bool Skipped, long Inserted)?> FireAsync(RecurringPlan plan, int defaultMaxAttempts, TimeSpan defaultTimeout, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync<(bool Skipped, long Inserted)?>("fire-recurring", async ct =>
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var rows = await db.QueryAsync(JobSql.FireRecurring, (plan, defaultMaxAttempts, defaultTimeout), static (p, s) =>
            {
                p.AddValue(s.plan.Key);
                p.AddValue(s.plan.Expected);
                p.AddValue(s.plan.JobIds);
                p.AddValue(s.plan.NextIfFired);
                p.AddValue(s.plan.NextIfSkipped);
                p.AddValue(s.plan.SkipWhileBusy);
                p.AddValue(s.plan.LastIfSkipped);
                p.AddValue(s.defaultMaxAttempts);
                p.AddValue(s.defaultTimeout);
                p.AddValue(s.plan.Fire.ToArray());
            }, static r => (JobRows.Value<bool>(r, "busy"), JobRows.Value<long>(r, "inserted")), ct);
            return rows.Count == 0 ? null : rows[0];
        }, cancellationToken);
}
