using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace JobWorker.Persistence;

/// <summary>
/// The context <c>dotnet ef</c> builds to write and check migrations. Found before the CLI host would be booted, so the
/// tools need no settings, secrets or running services: diffing the model never connects. Commands that do connect
/// (<c>database update</c>) take <c>--connection</c>; the default is the local development database, with no password.
/// </summary>
internal sealed class JobDbContextDesignTimeFactory : IDesignTimeDbContextFactory<JobDbContext>
{
    private const string LocalDatabase = "Host=127.0.0.1;Port=55432;Database=jobworker;Username=jobworker";

    public JobDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<JobDbContext>().UseNpgsql(LocalDatabase).Options);
}
