using System.CommandLine;
using JobWorker.Hosting;
using JobWorker.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Cli;

/// <summary><c>jobworker migrate</c>: applies the job store's schema and exits.</summary>
internal static class MigrateCommand
{
    public static Command Create(IConfiguration configuration)
    {
        var command = new Command("migrate", "Apply pending database schema migrations, then exit.");
        command.SetAction((_, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var builder = JobWorkerHost.CreateCommandBuilder(configuration);
            builder.AddJobPersistence(_ => "jobworker-migrate");
            using var host = builder.Build();
            var applied = await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
            Console.WriteLine(applied.Count == 0
                ? "Schema is up to date; nothing to apply."
                : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}.");
            return CliErrors.Ok;
        }));
        return command;
    }
}
