using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using JobWorker.Telemetry;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace JobWorker.Persistence;

/// <summary>
/// Measures how long each transition actually holds a pooled connection: from EF opening it to EF closing it,
/// excluding any wait for the pool. Recorded in <c>jobworker.db.connection.hold</c>, and added to the current
/// transition span as <c>jobworker.db.connection.hold_ms</c>.
/// </summary>
internal sealed class ConnectionHoldInterceptor : DbConnectionInterceptor
{
    // Keyed by connection object: EF opens and closes in different async methods, so no ambient value survives between.
    private static readonly ConditionalWeakTable<DbConnection, StrongBox<long>> OpenedAt = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Opened(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Opened(connection);
        return Task.CompletedTask;
    }

    public override void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Record(connection);

    public override Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Record(connection);
        return Task.CompletedTask;
    }

    private static void Opened(DbConnection connection) => OpenedAt.GetOrCreateValue(connection).Value = Stopwatch.GetTimestamp();

    private static void Record(DbConnection connection)
    {
        if (!OpenedAt.TryGetValue(connection, out var opened) || opened.Value == 0)
        {
            return;
        }

        var held = Stopwatch.GetElapsedTime(opened.Value);
        opened.Value = 0;
        JobWorkerTelemetry.ConnectionHold.Record(held.TotalSeconds);
        if (Activity.Current is { } span && span.GetTagItem("jobworker.transition") is not null)
        {
            var total = span.GetTagItem("jobworker.db.connection.hold_ms") is double so_far ? so_far : 0;
            span.SetTag("jobworker.db.connection.hold_ms", total + held.TotalMilliseconds);
        }
    }
}
