using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests;

/// <summary>
/// What the ledger says a recurring schedule did: each job of a queue matched to the occurrence whose derived id it has,
/// so a test can count runs per occurrence and see which occurrences never ran.
/// </summary>
internal static class RecurringLedger
{
    public static RecurringControl Control { get; } = new(
        TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()), Options.Create(new SubmissionOptions()));

    /// <summary>Every job of <paramref name="queue"/>, read without payloads.</summary>
    public static async Task<List<RecurringRun>> RunsAsync(string queue, string? connectionString = null)
    {
        await using var connection = new NpgsqlConnection(connectionString ?? TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT id, state, attempt, created_at, started_at, finished_at FROM jobs WHERE queue = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queue });
        var runs = new List<RecurringRun>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            runs.Add(new RecurringRun(
                reader.GetGuid(0), Enum.Parse<JobState>(reader.GetString(1)), reader.GetInt32(2), reader.GetDateTime(3),
                reader.IsDBNull(4) ? null : reader.GetDateTime(4), reader.IsDBNull(5) ? null : reader.GetDateTime(5)));
        }

        return runs;
    }

    /// <summary>
    /// The occurrences of <paramref name="key"/> (cron <paramref name="cron"/>, UTC) that have a job among
    /// <paramref name="runs"/>, oldest first, with their jobs; and the occurrences between the first and the last fired that have none.
    /// </summary>
    public static (List<(DateTime Occurrence, RecurringRun Run)> Fired, List<DateTime> Missing) Match(string key, string cron, IReadOnlyList<RecurringRun> runs)
    {
        if (runs.Count == 0)
        {
            return ([], []);
        }

        var from = runs.Min(r => r.CreatedAt).AddHours(-1);
        var to = runs.Max(r => r.CreatedAt).AddSeconds(1);
        var occurrences = RecurringCron.Between(RecurringCron.Parse(cron), TimeZoneInfo.Utc, from, to, 1_000_000);
        var byId = runs.ToDictionary(r => r.Id);
        var fired = occurrences.Where(o => byId.ContainsKey(RecurringJobId.For(key, o))).Select(o => (o, byId[RecurringJobId.For(key, o)])).ToList();
        var missing = fired.Count == 0 ? [] : occurrences.Where(o => o > fired[0].o && o < fired[^1].o && !byId.ContainsKey(RecurringJobId.For(key, o))).ToList();
        return (fired, missing);
    }
}

/// <summary>A job as the recurring tests read it.</summary>
internal sealed record RecurringRun(Guid Id, JobState State, int Attempt, DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt);
