using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>
/// Contexts on one connection the caller opened and keeps open: the design JobWorker replaced, where a job's context held
/// its connection from the first write to the last. A <see cref="Jobs.JobStore"/> built on it runs its statements on that
/// connection; EF leaves a connection it did not open open, so the store's per-call open and close neither return it to
/// the pool nor rent another.
/// </summary>
internal sealed class HeldConnectionContexts(DbContextOptions<JobDbContext> options, NpgsqlConnection connection) : IDbContextFactory<JobDbContext>
{
    public JobDbContext CreateDbContext()
    {
        var db = new JobDbContext(options);
        db.Database.SetDbConnection(connection, contextOwnsConnection: false);
        return db;
    }
}
