using JobWorker.Settings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Persistence;

/// <summary>The persistence block: the job database.</summary>
public static class PersistenceHostBuilderExtensions
{
    /// <summary>
    /// The job store's database: one NpgsqlDataSource (one pool) per process, owned by <see cref="JobDatabase"/>,
    /// and a pooled DbContext factory from which each transition takes a short-lived context.
    /// </summary>
    /// <param name="builder">The application's builder.</param>
    /// <param name="applicationName">Shown in pg_stat_activity, so an operator can tell whose connections they are.</param>
    public static IHostApplicationBuilder AddJobPersistence(this IHostApplicationBuilder builder, Func<IServiceProvider, string> applicationName)
    {
        var services = builder.Services;
        services.AddSettings<DatabaseOptions>(DatabaseOptions.Section);
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        services.AddSingleton(sp => new DatabaseClientName(applicationName(sp)));
        services.AddSingleton<JobDatabase>();
        services.AddSingleton<IInterceptor, SlowStatementInterceptor>();
        services.AddSingleton<IInterceptor, ConnectionHoldInterceptor>();
        services.AddSingleton<IDbContextFactory<JobDbContext>, JobDbContextFactory>();
        services.AddSingleton<DatabaseMigrator>();

        if (builder.Configuration.GetValue<bool>($"{DatabaseOptions.Section}:{nameof(DatabaseOptions.MigrateOnStart)}"))
        {
            services.AddHostedService<DatabaseMigrationService>();
        }

        return builder;
    }
}
