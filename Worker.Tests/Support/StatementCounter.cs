using System.Collections.Concurrent;
using JobWorker.Persistence;

namespace JobWorker.Tests;

/// <summary>Counts the ledger's statements by their <c>/* jobworker:name */</c> tag. Add it to a worker as an interceptor.</summary>
internal sealed class StatementCounter : IStatementInterceptor
{
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public int Count(string statement) => _counts.GetValueOrDefault(statement);

    public void Executed(string sql, TimeSpan duration)
    {
        var start = sql.IndexOf("/* jobworker:", StringComparison.Ordinal);
        if (start >= 0 && sql.IndexOf(" */", start, StringComparison.Ordinal) is > 0 and var end)
        {
            _counts.AddOrUpdate(sql[(start + "/* jobworker:".Length)..end], 1, (_, n) => n + 1);
        }
    }
}
