using System.Data.Common;
using JobWorker.Telemetry;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Persistence;

/// <summary>Logs and counts every SQL statement slower than <c>Database:SlowStatementThreshold</c>.</summary>
internal sealed partial class SlowStatementInterceptor(IOptionsMonitor<DatabaseOptions> options, ILogger<SlowStatementInterceptor> logger)
    : DbCommandInterceptor, IStatementInterceptor
{
    public override DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Check(command, eventData);
        return result;
    }

    public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Check(command, eventData);
        return ValueTask.FromResult(result);
    }

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Check(command, eventData);
        return result;
    }

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Check(command, eventData);
        return ValueTask.FromResult(result);
    }

    public override object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        Check(command, eventData);
        return result;
    }

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        Check(command, eventData);
        return ValueTask.FromResult(result);
    }

    /// <summary>Reports <paramref name="sql"/> if it took longer than the threshold (for statements run outside EF's pipeline).</summary>
    public void Executed(string sql, TimeSpan duration)
    {
        var threshold = options.CurrentValue.SlowStatementThreshold;
        if (threshold <= TimeSpan.Zero || duration < threshold)
        {
            return;
        }

        JobWorkerTelemetry.SlowStatements.Add(1);
        sql = sql.ReplaceLineEndings(" ");
        LogSlow(logger, duration.TotalMilliseconds, threshold.TotalMilliseconds, sql.Length <= 300 ? sql : sql[..300] + "…");
    }

    private void Check(DbCommand command, CommandExecutedEventData eventData) => Executed(command.CommandText, eventData.Duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow SQL statement: {DurationMs:F0} ms (threshold {ThresholdMs:F0} ms): {Sql}")]
    private static partial void LogSlow(ILogger logger, double durationMs, double thresholdMs, string sql);
}
