using System.Diagnostics;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>
/// The database's own ceiling for JobWorker's work: the three statements of one job (accept, claim, succeed),
/// each in its own implicit transaction on a connection rented for it, as JobStore does, driven straight
/// through Npgsql by many clients at once. No broker, no EF, no handler.
/// </summary>
internal static class DatabaseCeiling
{
    public static async Task<CeilingResult> MeasureAsync(string connectionString, int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var dataSource = new NpgsqlDataSourceBuilder(connectionString)
        {
            ConnectionStringBuilder = { MaxPoolSize = clients, ApplicationName = "jobworker-bench-ceiling" },
        }.Build();

        await RunAsync(dataSource, clients, TimeSpan.FromSeconds(1), cancellationToken); // warm the pool and the plans
        var clock = Stopwatch.StartNew();
        var jobs = await RunAsync(dataSource, clients, duration, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        return new CeilingResult(clients, jobs, seconds, jobs / seconds);
    }

    private static async Task<int> RunAsync(NpgsqlDataSource dataSource, int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                await OneJobAsync(dataSource, Guid.CreateVersion7(), cancellationToken);
                Interlocked.Increment(ref done);
            }
        }, cancellationToken)));
        return done;
    }

    private static async Task OneJobAsync(NpgsqlDataSource dataSource, Guid id, CancellationToken cancellationToken)
    {
        await ExecuteAsync(dataSource, """
            INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, created_at, updated_at)
            VALUES ($1, 'noop', '{}'::jsonb, 'Pending', 0, 3, now(), now()) ON CONFLICT (id) DO NOTHING
            """, id, cancellationToken);
        await ExecuteAsync(dataSource, """
            UPDATE jobs SET state = 'Running', attempt = attempt + 1, owner = 'bench', lease_expires_at = now() + interval '30 seconds',
                started_at = now(), finished_at = NULL, updated_at = now()
            WHERE id = $1 AND attempt < max_attempts AND state = 'Pending'
            RETURNING *
            """, id, cancellationToken);
        await ExecuteAsync(dataSource, """
            UPDATE jobs SET state = 'Succeeded', result = NULL, error = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
            WHERE id = $1 AND state = 'Running' AND attempt = 1
            """, id, cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = id } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
        }
    }
}
