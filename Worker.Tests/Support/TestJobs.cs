using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Tests;

/// <summary>Builds submissions and reads jobs back from the test database.</summary>
internal static class TestJobs
{
    public static JobStore Store { get; } = new(
        TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()), TransitionResilience.None, Options.Create(new DispatchOptions()));

    public static JobLifecycle Lifecycle { get; } = new(Options.Create(new RetryOptions()));

    /// <summary>A writer of outcomes on the test database, without a relay (events stay in the outbox, where tests read them).</summary>
    public static JobCompleter Completer { get; } = new(
        Store, Options.Create(new JobOptions()), Options.Create(new ResilienceOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<JobCompleter>.Instance);

    /// <summary>Applies one outcome through the writer.</summary>
    public static Task<AppliedOutcome?> ApplyAsync(JobOutcome outcome) => Completer.ApplyAsync(outcome, CancellationToken.None);

    public static Task<Job?> FindAsync(Guid id) => Store.FindAsync(id, CancellationToken.None);

    public static SubmitJob Submit(string type, object? payload = null, int? maxAttempts = null, TimeSpan? timeout = null) => new()
    {
        JobId = Guid.NewGuid(),
        JobType = type,
        Payload = JsonSerializer.SerializeToElement(payload ?? new { }),
        MaxAttempts = maxAttempts,
        Timeout = timeout,
    };

    /// <summary>The job's recorded events still in the outbox, as "Kind@attempt", sorted.</summary>
    public static async Task<List<string>> EventsAsync(Guid jobId)
    {
        await using var db = TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()).CreateDbContext();
        var events = await db.Events.AsNoTracking().Where(e => e.JobId == jobId && e.PublishedAt == null).ToListAsync();
        return [.. events.Select(e => $"{e.Kind}@{e.Attempt}{(e.WillRetry ? " (will retry)" : "")}").Order(StringComparer.Ordinal)];
    }

    /// <summary>Every event the job recorded, published or not, as "Kind@attempt", sorted.</summary>
    public static async Task<List<string>> HistoryAsync(Guid jobId)
    {
        await using var db = TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()).CreateDbContext();
        var events = await db.Events.AsNoTracking().Where(e => e.JobId == jobId).ToListAsync();
        return [.. events.Select(e => $"{e.Kind}@{e.Attempt}").Order(StringComparer.Ordinal)];
    }

    /// <summary>Runs one statement against the test database with <paramref name="id"/> as $1 (for faults a test arranges).</summary>
    public static async Task<int> ExecuteAsync(string sql, Guid id)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestEnvironment.AdminConnectionString(TestEnvironment.DatabaseName));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection) { Parameters = { new() { Value = id } } };
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs statements as the superuser on the test database (for faults a test arranges: triggers, rows).</summary>
    public static async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestEnvironment.AdminConnectionString(TestEnvironment.DatabaseName));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection) { CommandTimeout = 120 };
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Waits (bounded) until the job, read without its payload, is in <paramref name="state"/>.</summary>
    public static async Task<JobLocation> WaitForLocationAsync(Guid id, JobState state, TimeSpan timeout) =>
        (await Eventually.WaitForAsync(
            () => Store.LocateAsync(id, CancellationToken.None),
            job => job?.State == state,
            timeout,
            $"job {id} to be {state}"))!;

    public static List<SubmitJob> Delays(int count, int ms) =>
        [.. Enumerable.Range(0, count).Select(_ => Submit("delay", new { ms }))];

    public static Task<Dictionary<JobState, int>> CountAsync(IEnumerable<SubmitJob> jobs) =>
        Store.CountByStateAsync([.. jobs.Select(j => j.JobId)], CancellationToken.None);

    /// <summary>Waits (bounded) until every job is in a terminal state; returns the counts by state.</summary>
    public static Task<Dictionary<JobState, int>> WaitUntilFinishedAsync(IReadOnlyCollection<SubmitJob> jobs, TimeSpan timeout) =>
        Eventually.WaitForAsync(
            () => CountAsync(jobs),
            counts => counts.Where(c => c.Key.IsTerminal()).Sum(c => c.Value) == jobs.Count,
            timeout,
            $"{jobs.Count} jobs to finish");

    public static async Task<Job> WaitForStateAsync(Guid id, JobState state, TimeSpan timeout) =>
        (await Eventually.WaitForAsync(
            () => Store.FindAsync(id, CancellationToken.None),
            job => job?.State == state,
            timeout,
            $"job {id} to be {state}"))!;

    /// <summary>The rows of <paramref name="jobs"/> as stored.</summary>
    public static Task<List<Job>> LoadAsync(IEnumerable<SubmitJob> jobs) => LoadAsync([.. jobs.Select(j => j.JobId)]);

    public static async Task<List<Job>> LoadAsync(List<Guid> ids)
    {
        await using var db = TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()).CreateDbContext();
        return await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToListAsync();
    }

    public static string Describe(Dictionary<JobState, int> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"));
}
