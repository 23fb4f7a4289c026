using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using JobWorker.Resilience;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace JobWorker.Hosting;

/// <summary>Composes the worker and the CLI's smaller hosts from the same building blocks.</summary>
public static class JobWorkerHost
{
    /// <summary>
    /// A builder reading appsettings.json beside the executable, then appsettings.{Environment}.json, then
    /// environment variables (<c>Section__Key</c>). <paramref name="configure"/> runs before any registration,
    /// so it may add configuration sources and services (tests and embedders use it).
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(bool quiet, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.UseUtcTimestamp = true;
        });
        if (quiet)
        {
            // CLI commands report failures themselves, in one line; library logs would repeat them.
            // Provider rules outrank the category rules from appsettings.json.
            builder.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Critical);
            builder.Logging.AddFilter<ConsoleLoggerProvider>("JobWorker", LogLevel.Warning);
        }

        configure?.Invoke(builder);
        return builder;
    }

    /// <summary>The worker: consumes jobs, runs handlers, records transitions.</summary>
    public static IHost BuildWorker(Action<HostApplicationBuilder>? configure = null)
    {
        var builder = CreateBuilder(quiet: false, configure);
        builder.AddJobPersistence(sp => $"jobworker/{sp.GetRequiredService<WorkerIdentity>().Id}");
        builder.AddJobResilience();
        builder.AddJobProcessing();
        builder.AddJobMessaging(consumeJobs: true);
        builder.Services.AddHostedService<StartupReport>();

        var drain = builder.Configuration.GetValue<TimeSpan?>($"{JobOptions.Section}:{nameof(JobOptions.DrainTimeout)}") ?? new JobOptions().DrainTimeout;
        builder.Services.Configure<MassTransitHostOptions>(mt =>
        {
            mt.WaitUntilStarted = true;
            mt.StartTimeout = TimeSpan.FromSeconds(60);
            mt.ConsumerStopTimeout = drain;
            mt.StopTimeout = drain + TimeSpan.FromSeconds(10);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = drain + TimeSpan.FromSeconds(20));
        return builder.Build();
    }
}
