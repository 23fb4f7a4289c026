using System.Collections.Concurrent;
using JobWorker.Persistence;

namespace JobWorker.Tests;

/// <summary>
/// Injects faults into the ledger's statements by their <c>/* jobworker:name */</c> tag: before a statement is sent (it
/// fails unsent) or after it ran (it committed, and its reply is lost). Add it to a worker as an interceptor.
/// </summary>
internal sealed class StatementFaults : IStatementInterceptor
{
    private readonly ConcurrentDictionary<string, Func<Exception?>> _before = new();
    private readonly ConcurrentDictionary<string, Func<Exception?>> _after = new();
    private readonly ConcurrentDictionary<string, Func<Exception?>> _stalled = new();

    /// <summary>Every <paramref name="statement"/> fails before it is sent with what <paramref name="fault"/> returns (null: no fault this time).</summary>
    public void FailBefore(string statement, Func<Exception?> fault) => _before[statement] = fault;

    /// <summary>Every <paramref name="statement"/> runs, then fails with what <paramref name="fault"/> returns, as if its reply was lost.</summary>
    public void FailAfter(string statement, Func<Exception?> fault) => _after[statement] = fault;

    /// <summary>Every <paramref name="statement"/> hangs before it is sent until its caller's token ends the wait (a database that does not answer).</summary>
    public void Stall(string statement) => _stalled[statement] = () => null;

    public void Clear()
    {
        _before.Clear();
        _after.Clear();
        _stalled.Clear();
    }

    public async ValueTask ExecutingAsync(string sql, CancellationToken cancellationToken)
    {
        if (_stalled.Keys.Any(statement => sql.Contains($"/* jobworker:{statement} */", StringComparison.Ordinal)))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (Find(_before, sql) is { } fault)
        {
            throw fault;
        }
    }

    public void Executed(string sql, TimeSpan duration)
    {
        if (Find(_after, sql) is { } fault)
        {
            throw fault;
        }
    }

    private static Exception? Find(ConcurrentDictionary<string, Func<Exception?>> faults, string sql)
    {
        foreach (var (statement, fault) in faults)
        {
            if (sql.Contains($"/* jobworker:{statement} */", StringComparison.Ordinal))
            {
                return fault();
            }
        }

        return null;
    }
}
