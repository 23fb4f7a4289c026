using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Persistence;

public static class PersistenceHostBuilderExtensions
{
    /// <summary>
    /// The job store's database: one NpgsqlDataSource (one pool) per process, handed to EF, and a pooled
    /// DbContext factory from which each transition takes a short-lived context.
    /// </summary>
    /// <param name="applicationName">Shown in pg_stat_activity, so an operator can tell whose connections they are.</param>
    public static IHostApplicationBuilder AddJobPersistence(this IHostApplicationBuilder builder, Func<IServiceProvider, string> applicationName)
    {
        var services = builder.Services;
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        services.AddSingleton(sp =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString);
            if (string.IsNullOrEmpty(dataSource.ConnectionStringBuilder.ApplicationName))
            {
                var name = applicationName(sp);
                dataSource.ConnectionStringBuilder.ApplicationName = name.Length <= 63 ? name : name[..63];
            }

            return dataSource.Build();
        });
        services.AddPooledDbContextFactory<JobDbContext>((sp, options) => options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<DatabaseMigrator>();

        if (builder.Configuration.GetValue<bool>($"{DatabaseOptions.Section}:{nameof(DatabaseOptions.MigrateOnStart)}"))
        {
            services.AddHostedService<DatabaseMigrationService>();
        }

        return builder;
    }
}
