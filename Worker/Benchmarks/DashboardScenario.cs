using System.Diagnostics;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>
/// The dashboard's queries on a big ledger: seeds <c>rows</c> jobs (most Succeeded over the last week, some Failed with
/// a handful of errors, a few Pending, Running and scheduled, a share finished in the last hour) with three events each,
/// then times every query behind the pages through <see cref="JobQueries"/> itself, warm, many times each.
/// </summary>
internal static class DashboardScenario
{
    private const int Rounds = 30;

    public static async Task<DashboardResult> RunAsync(string connectionString, int rows, CancellationToken cancellationToken)
    {
        var seeding = Stopwatch.StartNew();
        await SeedAsync(connectionString, rows, cancellationToken);
        var seeded = seeding.Elapsed.TotalSeconds;

        var contexts = new PooledDbContextFactory<JobDbContext>(new DbContextOptionsBuilder<JobDbContext>()
            .UseNpgsql(new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "jobworker-bench-dashboard" }.ConnectionString).Options);
        var queries = new JobQueries(contexts);
        var page = 50;
        var deepCursor = await DeepCursorAsync(contexts, rows / 2, cancellationToken);
        var failed = (await queries.ListAsync(new JobFilter { State = JobState.Failed }, null, 1, cancellationToken)).Single().Id;
        var lastWeek = DateTime.UtcNow.AddDays(-3);

        var timings = new List<QueryTiming>
        {
            await TimeAsync("overview: counts by state (Succeeded: last 24 h)", () => queries.CountByStateAsync(TimeSpan.FromHours(24), cancellationToken)),
            await TimeAsync("overview: finished per minute, 60 min", () => queries.FinishedPerMinuteAsync(TimeSpan.FromMinutes(59), cancellationToken)),
            await TimeAsync("overview: due soon", () => queries.DueSoonAsync(10, cancellationToken)),
            await TimeAsync("overview: replicas", () => queries.ReplicasAsync(TimeSpan.FromHours(1), cancellationToken)),
            await TimeAsync("jobs: newest page, no filter", () => queries.ListAsync(JobFilter.All, null, page, cancellationToken)),
            await TimeAsync($"jobs: a page {rows / 2:N0} rows deep", () => queries.ListAsync(JobFilter.All, deepCursor, page, cancellationToken)),
            await TimeAsync("jobs: state Failed", () => queries.ListAsync(new JobFilter { State = JobState.Failed }, null, page, cancellationToken)),
            await TimeAsync("jobs: type (a rare one)", () => queries.ListAsync(new JobFilter { Type = "report" }, null, page, cancellationToken)),
            await TimeAsync("jobs: error contains (rare text)", () => queries.ListAsync(new JobFilter { ErrorContains = "quota exceeded" }, null, page, cancellationToken)),
            await TimeAsync("jobs: error contains (common text)", () => queries.ListAsync(new JobFilter { ErrorContains = "timed out" }, null, page, cancellationToken)),
            await TimeAsync("jobs: Failed + type + error + 3 days", () => queries.ListAsync(
                new JobFilter { State = JobState.Failed, Type = "resize", ErrorContains = "timed out", CreatedFrom = lastWeek }, null, page, cancellationToken)),
            await TimeAsync("job: row and history", async () => (await queries.FindAsync(failed, cancellationToken), await queries.HistoryAsync(failed, cancellationToken))),
        };
        return new DashboardResult(rows, seeded, timings);
    }

    private static async Task<QueryTiming> TimeAsync<T>(string query, Func<Task<T>> run)
    {
        await run(); // warm: plans, pool, caches
        var samples = new List<double>(Rounds);
        for (var i = 0; i < Rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await run();
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return new QueryTiming(query, BenchMath.Percentile(samples, 50), BenchMath.Percentile(samples, 95));
    }

    /// <summary>The cursor <paramref name="offset"/> rows down the jobs page, to time a page that deep.</summary>
    private static async Task<JobCursor> DeepCursorAsync(IDbContextFactory<JobDbContext> contexts, int offset, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().TagWith("jobworker:bench-deep-cursor")
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Skip(offset)
            .Select(j => new JobCursor(j.CreatedAt, j.Id))
            .FirstAsync(cancellationToken);
    }

    /// <summary>
    /// Replaces the ledger's rows with <paramref name="rows"/> generated jobs, one statement per table, in the server;
    /// then VACUUM ANALYZE, as autovacuum would leave a table this old. The tests plan the dashboard's queries on it too.
    /// </summary>
    internal static async Task SeedAsync(string connectionString, int rows, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 600 }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var sql in new[]
        {
            "TRUNCATE jobs, job_events, job_parents, workers",
            $$"""
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, owner, error, result, run_at, created_at, started_at, finished_at, updated_at)
            SELECT gen_random_uuid(),
                   CASE WHEN i % 1000 = 0 THEN 'report' WHEN i % 3 = 0 THEN 'resize' ELSE 'email' END,
                   'jobworker', '{"n": 1}', s.state, 1, 3, 'replica-' || (i % 4),
                   CASE WHEN s.state = 'Failed' THEN CASE WHEN i % 5000 = 7 THEN 'Quota exceeded on bucket ' || i ELSE 'Timed out after 00:05:00 (attempt 3 of 3)' END END,
                   CASE WHEN s.state = 'Succeeded' THEN '{"ok": true}'::jsonb END,
                   CASE WHEN s.state = 'Pending' AND i % 2 = 0 THEN now() + (i % 3600) * interval '1 second' ELSE c.created_at END,
                   c.created_at, c.created_at, CASE WHEN s.state IN ('Succeeded', 'Failed', 'Cancelled') THEN c.created_at + interval '1 second' END,
                   c.created_at + interval '1 second'
            FROM generate_series(1, {{rows}}) AS i,
                 LATERAL (SELECT now() - (({{rows}} - i) * (interval '7 days' / {{rows}})) AS created_at) c,
                 LATERAL (SELECT CASE WHEN i % 100 < 5 THEN 'Failed' WHEN i % 100 = 5 THEN 'Cancelled' WHEN i % 1000 = 6 THEN 'Pending'
                                      WHEN i % 10000 = 7 THEN 'Running' ELSE 'Succeeded' END AS state) s
            """,
            // Fresh statistics before the events: each event's foreign-key check looks its job up, and with the statistics of
            // a small or empty table (an earlier scenario's, or TRUNCATE's) that lookup is a scan of a million rows.
            "ANALYZE jobs",
            """
            INSERT INTO job_events (job_id, kind, attempt, will_retry, error, worker_id, occurred_at, relay_after, published_at)
            SELECT j.id, k.kind, 1, false, CASE WHEN k.kind = 'Failed' THEN j.error END, CASE WHEN k.kind = 'Started' THEN j.owner END,
                   j.created_at, j.created_at, j.created_at
            FROM jobs j, LATERAL (VALUES ('Started'), (CASE j.state WHEN 'Succeeded' THEN 'Succeeded' WHEN 'Failed' THEN 'Failed' ELSE 'Cancelled' END)) AS k(kind)
            WHERE j.state IN ('Succeeded', 'Failed', 'Cancelled')
            """,
            "VACUUM ANALYZE jobs",
            "VACUUM ANALYZE job_events",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
