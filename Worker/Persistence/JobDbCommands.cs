using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace JobWorker.Persistence;

/// <summary>
/// Parameterised SQL on a short context's own connection, for the transitions every job makes. No LINQ, no expression
/// tree and no per-call query compilation: the statement text is a constant with positional parameters (<c>$1</c>…),
/// so Npgsql sends it without rewriting and auto-prepares it (<c>Max Auto Prepare</c>). The connection is opened and
/// closed through EF, so the connection-hold interceptor measures it like any other, and a slow statement is reported
/// like one that EF ran.
/// </summary>
internal static class JobDbCommands
{
    /// <summary>
    /// Runs <paramref name="sql"/> with the parameters <paramref name="bind"/> adds (in order: <c>$1</c>, <c>$2</c>…) and
    /// reads each row with <paramref name="read"/>. Static lambdas and <paramref name="state"/> keep the call free of closures.
    /// </summary>
    public static async Task<List<TRow>> QueryAsync<TState, TRow>(this JobDbContext db, string sql, TState state,
        Action<NpgsqlParameterCollection, TState> bind, Func<NpgsqlDataReader, TRow> read, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand(sql, (NpgsqlConnection)db.Database.GetDbConnection());
            bind(command.Parameters, state);
            await ExecutingAsync(db, sql, cancellationToken);
            var started = Stopwatch.GetTimestamp();
            var rows = new List<TRow>(1);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add(read(reader));
                }
            }

            Executed(db, sql, Stopwatch.GetElapsedTime(started));
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Runs <paramref name="first"/>, then <paramref name="sql"/>, in one round trip and one implicit transaction (an
    /// <see cref="NpgsqlBatch"/> ends with one Sync, so PgBouncer in transaction mode keeps both on one server connection),
    /// and reads the rows of <paramref name="sql"/>. The second statement takes its snapshot after the first has run, so
    /// a lock the first waits for covers what the second reads. <paramref name="bind"/> binds both.
    /// </summary>
    public static async Task<List<TRow>> QueryAfterAsync<TState, TRow>(this JobDbContext db, string first, string sql, TState state,
        Action<NpgsqlParameterCollection, NpgsqlParameterCollection, TState> bind, Func<NpgsqlDataReader, TRow> read, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection());
            var before = new NpgsqlBatchCommand(first);
            var main = new NpgsqlBatchCommand(sql);
            batch.BatchCommands.Add(before);
            batch.BatchCommands.Add(main);
            bind(before.Parameters, main.Parameters, state);
            await ExecutingAsync(db, sql, cancellationToken);
            var started = Stopwatch.GetTimestamp();
            var rows = new List<TRow>(1);
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                await reader.NextResultAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add(read(reader));
                }
            }

            Executed(db, sql, Stopwatch.GetElapsedTime(started));
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Runs <paramref name="sql"/> and returns the rows it affected.</summary>
    public static async Task<int> ExecuteAsync<TState>(this JobDbContext db, string sql, TState state,
        Action<NpgsqlParameterCollection, TState> bind, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand(sql, (NpgsqlConnection)db.Database.GetDbConnection());
            bind(command.Parameters, state);
            await ExecutingAsync(db, sql, cancellationToken);
            var started = Stopwatch.GetTimestamp();
            var affected = await command.ExecuteNonQueryAsync(cancellationToken);
            Executed(db, sql, Stopwatch.GetElapsedTime(started));
            return affected;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async ValueTask ExecutingAsync(JobDbContext db, string sql, CancellationToken cancellationToken)
    {
        foreach (var interceptor in db.StatementInterceptors)
        {
            await interceptor.ExecutingAsync(sql, cancellationToken);
        }
    }

    private static void Executed(JobDbContext db, string sql, TimeSpan duration)
    {
        foreach (var interceptor in db.StatementInterceptors)
        {
            interceptor.Executed(sql, duration);
        }
    }

    /// <summary>Adds a positional parameter; null becomes SQL NULL.</summary>
    public static void AddValue<T>(this NpgsqlParameterCollection parameters, T value) =>
        parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
}
