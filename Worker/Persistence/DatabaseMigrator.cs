using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Logging;

namespace JobWorker.Persistence;

/// <summary>Applies the job store's schema migrations; used by <c>jobworker migrate</c> and by MigrateOnStart.</summary>
internal sealed partial class DatabaseMigrator(IDbContextFactory<JobDbContext> contexts, ILogger<DatabaseMigrator> logger)
{
    /// <summary>Applies what is pending and returns the ids of the migrations applied.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // On a fresh database EF queries the history table before creating it and logs that as a failed
        // command, which reads like an error to whoever runs `jobworker migrate`; create it first.
        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        LogMigrated(logger, pending.Count, pending.Count == 0 ? "none" : string.Join(", ", pending));
        return pending;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date; applied {Count} migrations ({Migrations})")]
    private static partial void LogMigrated(ILogger logger, int count, string migrations);
}
