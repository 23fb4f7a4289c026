using JobWorker.Persistence;
using Npgsql;

namespace JobWorker.Tests;

/// <summary>
/// Inserts a job row in any state straight into the test database (River's testfactory.Job), so a test starts from the
/// state it is about rather than driving a job there.
/// </summary>
internal static class JobFactory
{
    public static async Task<Job> InsertAsync(
        JobState state = JobState.Pending, string queue = "", string type = "noop", string payload = "{}", int attempt = 0, int maxAttempts = 3,
        string? owner = null, TimeSpan? leaseLeft = null, TimeSpan? dueIn = null, bool dispatched = false, string? cancelReason = null,
        string? error = null, Guid? claimToken = null)
    {
        var id = Guid.NewGuid();
        var running = state == JobState.Running;
        await InsertRowAsync(id, state, queue, type, payload, running && attempt == 0 ? 1 : attempt, maxAttempts, owner ?? (running ? "worker-a" : null),
            claimToken ?? (running ? Guid.NewGuid() : null), running ? leaseLeft ?? TimeSpan.FromSeconds(30) : null, dueIn ?? TimeSpan.Zero, dispatched, cancelReason, error);
        return (await TestJobs.LoadAsync([id])).Single();
    }

    private static async Task InsertRowAsync(
        Guid id, JobState state, string queue, string type, string payload, int attempt, int maxAttempts, string? owner, Guid? claimToken,
        TimeSpan? leaseLeft, TimeSpan dueIn, bool dispatched, string? cancelReason, string? error)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, owner, claim_token, lease_expires_at, run_at, dispatched_at,
                              cancel_reason, error, created_at, started_at, finished_at, updated_at)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, CASE WHEN $10 THEN now() + $11 END, now() + $12, CASE WHEN $13 THEN now() END,
                    $14, $15, now(), CASE WHEN $6 > 0 THEN now() END, CASE WHEN $16 THEN now() END, now())
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = type });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queue });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state.ToString() });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = attempt });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxAttempts });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)owner ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)claimToken ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = leaseLeft is not null });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = leaseLeft ?? TimeSpan.Zero });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = dueIn });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = dispatched });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)cancelReason ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = state.IsTerminal() });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Inserts <paramref name="count"/> due Pending noop jobs of <paramref name="queue"/> in one statement, for tests of
    /// the dispatcher on a backlog: <paramref name="dispatchedAt"/> is the SQL for each row's <c>dispatched_at</c>, over
    /// the row's number <c>i</c> (e.g. <c>CASE WHEN i % 2 = 0 THEN now() END</c>); <paramref name="analyze"/> refreshes
    /// the planner's statistics for the tests that read plans.
    /// </summary>
    public static Task InsertBacklogAsync(string queue, int count, TimeSpan dueAgo, string dispatchedAt, bool analyze = false) =>
        TestJobs.ExecuteAsync($"""
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, run_at, dispatched_at, created_at, updated_at)
            SELECT gen_random_uuid(), 'noop', '{queue}', '{"{}"}', 'Pending', 0, 3, now() - interval '{(int)dueAgo.TotalSeconds} seconds',
                   {dispatchedAt}, now(), now()
            FROM generate_series(1, {count}) i;
            {(analyze ? "ANALYZE jobs;" : "")}
            """);
}
