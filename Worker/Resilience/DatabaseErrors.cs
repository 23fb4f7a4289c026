using System.Net.Sockets;
using Npgsql;
using static JobWorker.Resilience.ExceptionChain;

namespace JobWorker.Resilience;

/// <summary>Reads a database exception (EF wraps Npgsql's) for what to do about it.</summary>
internal static class DatabaseErrors
{
    /// <summary>
    /// Errors that are not transient to Npgsql but mean "the database cannot take this write now", so the same
    /// statement will succeed later: 25006 read-only transaction (a failover in progress), 57014 statement timeout or
    /// cancelled by an administrator, 25P03 idle-in-transaction timeout, 57P04 database dropped and being restored,
    /// 3D000 database not there yet, 42P01 table not there yet (a migration is running).
    /// </summary>
    private static readonly HashSet<string> CannotWriteNowStates = ["25006", "57014", "25P03", "57P04", "3D000", "42P01"];

    /// <summary>
    /// Worth retrying: the same statement may succeed shortly (connection loss, restart, timeout, serialization failure,
    /// or the database cannot write now). A cancellation of ours is never retried.
    /// </summary>
    public static bool ShouldRetry(Exception exception) =>
        exception is not OperationCanceledException && (IsTransient(exception) || CannotWriteNow(exception));

    /// <summary>Transient to Npgsql, or a pool that needs recreating.</summary>
    public static bool IsTransient(Exception exception) =>
        Find<NpgsqlException>(exception) is { } npgsql && (npgsql.IsTransient || NeedsRecreate(npgsql))
        || Find<TimeoutException>(exception) is not null
        || Find<ObjectDisposedException>(exception)?.ObjectName?.Contains("Npgsql", StringComparison.Ordinal) == true;

    /// <summary>The server refused the statement for now, not for good (see <see cref="CannotWriteNowStates"/>).</summary>
    public static bool CannotWriteNow(Exception exception) =>
        Find<PostgresException>(exception)?.SqlState is { } state && CannotWriteNowStates.Contains(state);

    /// <summary>The pool's connections are probably dead (server restart, terminated backends, network loss).</summary>
    public static bool BreaksConnections(Exception exception) =>
        Find<PostgresException>(exception) is { } postgres
            ? postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState is "57P01" or "57P02" or "57P03" or "25006"
            : Find<NpgsqlException>(exception) is { } npgsql
              && (Find<IOException>(npgsql) is not null || Find<SocketException>(npgsql) is not null || Find<EndOfStreamException>(npgsql) is not null);

    /// <summary>Clearing the pool will not help; a data source built from the current settings might (credentials or host changed).</summary>
    public static bool NeedsRecreate(Exception exception) =>
        Find<PostgresException>(exception)?.SqlState is "28P01" or "28000"
        || Find<ObjectDisposedException>(exception)?.ObjectName?.Contains("Npgsql", StringComparison.Ordinal) == true;

    /// <summary>
    /// The statement was refused for the data of a row it wrote or read, not for the state of the database: a data
    /// exception (class 22, e.g. a result jsonb cannot hold), a constraint (23), a program limit (54, e.g. a value too large
    /// to render), or a parameter that could not be encoded. The same row fails again; the rows beside it would not.
    /// </summary>
    public static bool IsRowFault(Exception exception) =>
        !ShouldRetry(exception)
        && (Find<PostgresException>(exception)?.SqlState is { } state && (state.StartsWith("22", StringComparison.Ordinal)
                || state.StartsWith("23", StringComparison.Ordinal) || state.StartsWith("54", StringComparison.Ordinal))
            || Find<System.Text.EncoderFallbackException>(exception) is not null
            || Find<System.Text.DecoderFallbackException>(exception) is not null);

    /// <summary>A short reason for logs: the SQLSTATE when there is one, else the innermost message.</summary>
    public static string Describe(Exception exception)
    {
        if (Find<PostgresException>(exception) is { } postgres)
        {
            return $"{postgres.SqlState} {postgres.MessageText}";
        }

        var inner = ExceptionChain.Innermost(exception);
        return $"{inner.GetType().Name}: {inner.Message}";
    }
}
