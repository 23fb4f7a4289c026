using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Operators' actions on recurring schedules, for the CLI's <c>recurring</c> commands and the dashboard's Recurring page
/// alike: list, pause, resume, trigger, and adding or removing a schedule at run time.
/// </summary>
internal sealed class RecurringControl(IDbContextFactory<JobDbContext> contexts, IOptions<SubmissionOptions> submissions)
{
    /// <summary>Every schedule, by key, with the state of its last job.</summary>
    public Task<List<RecurringView>> ListAsync(CancellationToken cancellationToken) => ReadAsync(null, cancellationToken);

    public async Task<RecurringView?> FindAsync(string key, CancellationToken cancellationToken) =>
        (await ReadAsync(key, cancellationToken)).FirstOrDefault();

    /// <summary>Pauses <paramref name="key"/> on every replica: none of its occurrences fires until it is resumed.</summary>
    public async Task<JobActionOutcome> PauseAsync(string key, string pausedBy, CancellationToken cancellationToken)
    {
        pausedBy = pausedBy[..Math.Min(pausedBy.Length, JobSchema.MaxOwnerLength)];
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var paused = await db.ExecuteAsync(JobSql.PauseRecurring, (key, pausedBy), static (p, s) =>
        {
            p.AddValue(s.key);
            p.AddValue(s.pausedBy);
        }, cancellationToken);
        return paused > 0
            ? new(true, $"Schedule {key} is paused: none of its occurrences fires until it is resumed.")
            : new(false, $"There is no schedule {key}.");
    }

    /// <summary>Resumes <paramref name="key"/> from its next occurrence after now; the occurrences of the pause are not caught up.</summary>
    public async Task<JobActionOutcome> ResumeAsync(string key, CancellationToken cancellationToken)
    {
        if (await FindAsync(key, cancellationToken) is not { } schedule)
        {
            return new(false, $"There is no schedule {key}.");
        }

        var next = RecurringCron.Next(RecurringCron.Parse(schedule.Cron), RecurringCron.Zone(schedule.TimeZone), await NowAsync(cancellationToken));
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var resumed = await db.ExecuteAsync(JobSql.ResumeRecurring, (key, next, schedule.Cron, schedule.TimeZone), static (p, s) =>
        {
            p.AddValue(s.key);
            p.AddValue(s.next);
            p.AddValue(s.Cron);
            p.AddValue(s.TimeZone);
        }, cancellationToken);
        return resumed > 0 ? new(true, $"Schedule {key} is resumed: it fires next at {next:yyyy-MM-dd HH:mm:ss} UTC.")
            : schedule.PausedAt is null ? new(false, $"Schedule {key} is not paused: nothing to resume.")
            : new(false, $"Schedule {key} changed while it was being resumed; try again.");
    }

    /// <summary>Runs <paramref name="key"/> once now, outside its cron; its next run does not move. Returns the job's id in the message.</summary>
    public async Task<JobActionOutcome> TriggerAsync(string key, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.QueryAsync(JobSql.TriggerRecurring, (key, id, submissions.Value), static (p, s) =>
        {
            p.AddValue(s.key);
            p.AddValue(s.id);
            p.AddValue(s.Value.DefaultMaxAttempts);
            p.AddValue(s.Value.DefaultTimeout);
        }, static r => JobRows.Value<Guid>(r, "id"), cancellationToken);
        if (rows.Count > 0)
        {
            return new(true, $"Schedule {key} triggered: job {rows[0]} runs now; its next run is unchanged.");
        }

        return await FindAsync(key, cancellationToken) is null
            ? new(false, $"There is no schedule {key}.")
            : new(false, $"Schedule {key} is disabled (no longer defined in configuration or code), so it cannot be triggered.");
    }

    /// <summary>What is wrong with an operator's schedule as given (key, cron, time zone, payload, type), or null.</summary>
    public static string? AddProblem(string key, string cron, string type, string? payloadJson, string timeZone) =>
        RecurringDefinitions.KeyProblem(key) is { } k ? $"The key {k}."
        : RecurringCron.Problem(cron) is { } c ? $"The cron expression {c}."
        : RecurringCron.ZoneProblem(timeZone) is { } z ? $"The time zone {z}."
        : RecurringDefinitions.PayloadProblem(payloadJson) is { } j ? $"The payload {j}."
        : string.IsNullOrWhiteSpace(type) ? "The job type is required." : null;

    /// <summary>Adds (or replaces) an operator's schedule for <paramref name="queue"/>; one that configuration or code defines is refused.</summary>
    public async Task<JobActionOutcome> AddAsync(string queue, string key, string cron, string type, string? payloadJson, string timeZone, CancellationToken cancellationToken)
    {
        if (AddProblem(key, cron, type, payloadJson, timeZone) is { } problem)
        {
            return new(false, problem);
        }

        var next = RecurringCron.Next(RecurringCron.Parse(cron), RecurringCron.Zone(timeZone), await NowAsync(cancellationToken));
        var payload = string.IsNullOrWhiteSpace(payloadJson) ? "null" : payloadJson;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var added = await db.ExecuteAsync(JobSql.AddRecurring, (key, queue, cron: cron.Trim(), timeZone: timeZone.Trim(), type: type.Trim(), payload, next), static (p, s) =>
        {
            p.AddValue(s.key);
            p.AddValue(s.queue);
            p.AddValue(s.cron);
            p.AddValue(s.timeZone);
            p.AddValue(s.type);
            p.AddValue(s.payload);
            p.AddValue(s.next);
        }, cancellationToken);
        return added > 0
            ? new(true, $"Schedule {key} ({cron} {timeZone}) of queue {queue} is in place: it fires next at {next:yyyy-MM-dd HH:mm:ss} UTC.")
            : new(false, $"Schedule {key} is defined in configuration or code: change it there.");
    }

    /// <summary>Deletes an operator's schedule; one that configuration or code defines is refused (remove it there, and it is disabled).</summary>
    public async Task<JobActionOutcome> RemoveAsync(string key, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var sources = await db.QueryAsync(JobSql.RemoveRecurring, key, static (p, k) => p.AddValue(k), static r => JobRows.Value<string>(r, "source"), cancellationToken);
        return sources.Count == 0 ? new(false, $"There is no schedule {key}.")
            : sources[0] == nameof(RecurringSource.Runtime) ? new(true, $"Schedule {key} is removed.")
            : new(false, $"Schedule {key} is defined in {(sources[0] == nameof(RecurringSource.Code) ? "code" : "configuration")}: remove it there, and it is disabled at the next start.");
    }

    private async Task<DateTime> NowAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.QueryAsync(JobSql.Now, 0, static (_, _) => { }, static r => JobRows.Value<DateTime>(r, "now"), cancellationToken);
        return rows[0];
    }

    private async Task<List<RecurringView>> ReadAsync(string? key, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.QueryAsync(JobSql.ListRecurring, key, static (p, k) => p.AddValue(k), static r => new RecurringView(
            JobRows.Value<string>(r, "key"), JobRows.Value<string>(r, "queue"), JobRows.Value<string>(r, "cron"), JobRows.Value<string>(r, "time_zone"),
            JobRows.Value<string>(r, "type"), JobRows.Value<string>(r, "payload"), JobRows.Nullable<int>(r, "max_attempts"),
            JobRows.Nullable<TimeSpan>(r, "timeout"), Enum.Parse<RecurringOverlap>(JobRows.Value<string>(r, "overlap")),
            Enum.Parse<RecurringCatchUp>(JobRows.Value<string>(r, "catch_up")), JobRows.Nullable<TimeSpan>(r, "catch_up_window"),
            Enum.Parse<RecurringSource>(JobRows.Value<string>(r, "source")), JobRows.Value<bool>(r, "enabled"),
            JobRows.Nullable<DateTime>(r, "paused_at"), JobRows.Text(r, "paused_by"), JobRows.Nullable<DateTime>(r, "next_run_at"),
            JobRows.Nullable<DateTime>(r, "last_occurrence_at"), JobRows.Nullable<Guid>(r, "last_job_id"),
            JobRows.Nullable<DateTime>(r, "last_skipped_at"),
            JobRows.Text(r, "last_state") is { } state ? Enum.Parse<JobState>(state) : null), cancellationToken);
    }
}
