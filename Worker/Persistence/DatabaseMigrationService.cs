using Microsoft.Extensions.Hosting;

namespace JobWorker.Persistence;

/// <summary>With Database:MigrateOnStart, migrates before the bus starts taking messages.</summary>
internal sealed class DatabaseMigrationService(DatabaseMigrator migrator) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => migrator.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
