using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging;

namespace JobWorker.Persistence;

/// <summary>
/// Hands out short-lived <see cref="JobDbContext"/>s on <see cref="JobDatabase"/>'s current data source,
/// from a context pool. When the data source is recreated, the next context comes from a pool built for it.
/// Every <see cref="IInterceptor"/> in the container is added to the contexts (the slow-statement and
/// connection-hold interceptors, and any a host or test adds).
/// </summary>
internal sealed class JobDbContextFactory(JobDatabase database, IEnumerable<IInterceptor> interceptors, ILoggerFactory loggerFactory)
    : IDbContextFactory<JobDbContext>
{
    private sealed record Pool(Npgsql.NpgsqlDataSource DataSource, PooledDbContextFactory<JobDbContext> Factory);

    private readonly IInterceptor[] _interceptors = [.. interceptors];
    private Pool? _pool;

    public JobDbContext CreateDbContext()
    {
        var dataSource = database.DataSource;
        var pool = Volatile.Read(ref _pool);
        if (pool is null || !ReferenceEquals(pool.DataSource, dataSource))
        {
            var options = new DbContextOptionsBuilder<JobDbContext>()
                .UseNpgsql(dataSource)
                .UseLoggerFactory(loggerFactory)
                .AddInterceptors(_interceptors)
                // A recreated data source is a new EF service provider; that is expected here, not a leak. Each statement
                // EF runs is logged at Debug, not Information: a team's host (Default: Information) would otherwise log
                // every statement of the worker's; slow ones are still warned of by the slow-statement interceptor.
                .ConfigureWarnings(w => w
                    .Ignore(CoreEventId.ManyServiceProvidersCreatedWarning)
                    .Log((RelationalEventId.CommandExecuted, LogLevel.Debug)))
                .Options;
            pool = new Pool(dataSource, new PooledDbContextFactory<JobDbContext>(options));
            Volatile.Write(ref _pool, pool);
        }

        return pool.Factory.CreateDbContext();
    }
}
