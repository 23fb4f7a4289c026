using Microsoft.EntityFrameworkCore.Diagnostics;

namespace JobWorker.Persistence;

/// <summary>
/// Sees each statement <see cref="JobDbCommands"/> runs, outside EF's command pipeline (whose interceptors never see
/// them): the slow-statement check, and faults a test injects by statement tag. Registered like any EF interceptor
/// (an <see cref="IInterceptor"/> in the container).
/// </summary>
internal interface IStatementInterceptor : IInterceptor
{
    /// <summary>Before the statement is sent; throwing fails it unsent.</summary>
    ValueTask ExecutingAsync(string sql, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>After the statement ran (committed, as its own transaction); throwing fails it as if its reply was lost.</summary>
    void Executed(string sql, TimeSpan duration);
}
