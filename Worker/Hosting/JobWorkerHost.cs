using System.Diagnostics;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
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
    /// A host for CLI commands, reading appsettings.json beside the executable, then appsettings.{Environment}.json,
    /// then environment variables (<c>Section__Key</c>). <paramref name="configure"/> runs before any registration,
    /// so it may add configuration sources and services (tests and embedders use it).
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(bool quiet, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        ConfigureLogging(builder, quiet);
        configure?.Invoke(builder);
        return builder;
    }

    /// <summary>The worker: consumes jobs, runs handlers, records transitions, and serves the health endpoints.</summary>
    public static WebApplication BuildWorker(Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        ConfigureLogging(builder, quiet: false);
        configure?.Invoke(builder);

        builder.AddJobPersistence(sp => $"jobworker/{sp.GetRequiredService<WorkerIdentity>().Id}");
        builder.AddJobResilience();
        builder.AddJobProcessing();
        builder.AddJobMessaging(consumeJobs: true);
        builder.AddJobTelemetry();
        builder.Services.AddHostedService<StartupReport>();
        builder.Services.AddHostedService<WorkerShutdown>();

        builder.Services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddJobWorkerHealthChecks();
        var port = builder.Configuration.GetValue<int?>($"{HealthOptions.Section}:{nameof(HealthOptions.Port)}") ?? new HealthOptions().Port;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(port is >= 0 and <= 65535 ? port : 0));

        var drain = builder.Configuration.GetValue<TimeSpan?>($"{JobOptions.Section}:{nameof(JobOptions.DrainTimeout)}") ?? new JobOptions().DrainTimeout;
        builder.Services.Configure<MassTransitHostOptions>(mt =>
        {
            mt.WaitUntilStarted = true;
            mt.StartTimeout = TimeSpan.FromSeconds(60);

            // A consume only waits for a slot and claims; handlers run in slots and drain in WorkerShutdown. A delivery
            // still waiting when its endpoint stops is cancelled after this and goes back to the queue.
            mt.ConsumerStopTimeout = TimeSpan.FromSeconds(5);
            mt.StopTimeout = TimeSpan.FromSeconds(30);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = drain + TimeSpan.FromSeconds(90));

        var app = builder.Build();
        app.MapJobWorkerHealth();
        return app;
    }

    private static void ConfigureLogging(IHostApplicationBuilder builder, bool quiet)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.UseUtcTimestamp = true;
            console.IncludeScopes = true;
        });

        // Every log line written inside a span carries its trace and span ids.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (quiet)
        {
            // CLI commands report failures themselves, in one line; library logs would repeat them.
            // Provider rules outrank the category rules from appsettings.json.
            builder.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Critical);
            builder.Logging.AddFilter<ConsoleLoggerProvider>("JobWorker", LogLevel.Warning);
            builder.Logging.AddFilter<ConsoleLoggerProvider>(typeof(SlowStatementInterceptor).FullName, LogLevel.Error);
        }
    }
}
