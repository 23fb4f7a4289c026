using System.Net.Sockets;
using Npgsql;
using static JobWorker.Resilience.ExceptionChain;

namespace JobWorker.Resilience;

/// <summary>Reads a database exception (EF wraps Npgsql's) for what to do about it.</summary>
public static class DatabaseErrors
{
    /// <summary>Worth retrying: the same statement may succeed shortly (connection loss, restart, timeout, serialization failure).</summary>
    public static bool IsTransient(Exception exception) =>
        Find<NpgsqlException>(exception) is { } npgsql && (npgsql.IsTransient || NeedsRecreate(npgsql))
        || Find<TimeoutException>(exception) is not null
        || Find<ObjectDisposedException>(exception)?.ObjectName?.Contains("Npgsql", StringComparison.Ordinal) == true;

    /// <summary>The pool's connections are probably dead (server restart, terminated backends, network loss).</summary>
    public static bool BreaksConnections(Exception exception) =>
        Find<PostgresException>(exception) is { } postgres
            ? postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState is "57P01" or "57P02" or "57P03"
            : Find<NpgsqlException>(exception) is { } npgsql
              && (Find<IOException>(npgsql) is not null || Find<SocketException>(npgsql) is not null || Find<EndOfStreamException>(npgsql) is not null);

    /// <summary>Clearing the pool will not help; a data source built from the current settings might (credentials or host changed).</summary>
    public static bool NeedsRecreate(Exception exception) =>
        Find<PostgresException>(exception)?.SqlState is "28P01" or "28000"
        || Find<ObjectDisposedException>(exception)?.ObjectName?.Contains("Npgsql", StringComparison.Ordinal) == true;

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
