using JobWorker.Dashboard;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using JobWorker.Telemetry;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace JobWorker.Hosting;

/// <summary>
/// The hosts JobWorker composes itself: the CLI commands' small ones, the standalone dashboard, and the worker as the
/// tests and the benchmark start it in-process. The worker a user runs is composed in its <c>Program.cs</c>.
/// </summary>
internal static class JobWorkerHost
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

    /// <summary>
    /// A CLI command's host on the application's own configuration: <paramref name="configuration"/> (the worker's,
    /// with whatever sources its builder added) on top of the defaults, so <c>submit</c> or <c>migrate</c> reach the
    /// same database, broker and queue as <c>run</c>.
    /// </summary>
    public static HostApplicationBuilder CreateCommandBuilder(IConfiguration configuration) =>
        CreateBuilder(quiet: true, builder =>
        {
            builder.Configuration.AddConfiguration(configuration);

            // A command waits for the broker as long as it waits for any broker call (RabbitMq:PublishTimeout), not the
            // worker's 60 s start: an unreachable broker is reported in seconds instead of a minute of silence.
            builder.Services.AddOptions<MassTransitHostOptions>()
                .PostConfigure<Microsoft.Extensions.Options.IOptions<RabbitMqOptions>>((host, rabbit) => host.StartTimeout = rabbit.Value.PublishTimeout);
        });

    /// <summary>
    /// The worker as the stock <c>Program.cs</c> composes it, for tests and the benchmark's in-process workers:
    /// <paramref name="configure"/> composes it, and must call <see cref="JobWorkerHostBuilderExtensions.AddJobWorker"/>.
    /// </summary>
    public static WebApplication BuildWorker(Action<IHostApplicationBuilder> configure)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        ConfigureLogging(builder, quiet: false);
        UseInMemoryKeys(builder);
        configure(builder);
        JobWorkerListeners.OwnProcess(builder.Services);
        if (!builder.HasJobWorker())
        {
            throw new InvalidOperationException("The worker host has no JobWorker in it: call builder.AddJobWorker() in the delegate given to BuildWorker.");
        }

        var app = builder.Build();
        app.MapJobWorkerHealth();
        app.MapJobWorkerDashboard();
        return app;
    }

    /// <summary>
    /// The dashboard alone (<c>jobworker dashboard</c>): it reads the ledger and publishes CancelJob, and consumes
    /// nothing, so it runs apart from the workers. It serves the health endpoints on <c>Health:Port</c> too, for its
    /// probes. It is on whatever <c>Dashboard:Enabled</c> says; its other settings (listener, remote access, actions,
    /// token) are the worker's: <paramref name="configuration"/>, the application's, on top of the defaults.
    /// </summary>
    public static WebApplication BuildDashboard(IConfiguration configuration)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        ConfigureLogging(builder, quiet: false);
        UseInMemoryKeys(builder);
        builder.Configuration.AddConfiguration(configuration);
        builder.Configuration.AddInMemoryCollection([new("Dashboard:Enabled", "true")]);
        builder.AddJobPersistence(_ => "jobworker-dashboard");
        builder.AddJobMessaging(consumeJobs: false);
        builder.AddJobWorkerDashboard();
        builder.AddDashboardHealth();
        JobWorkerListeners.OwnProcess(builder.Services);
        var app = builder.Build();
        app.MapJobWorkerHealth();
        app.MapJobWorkerDashboard();
        return app;
    }

    /// <summary>
    /// The dashboard's antiforgery tokens need data protection keys. The stock hosts keep them in memory: nothing is
    /// written to disk, and a restart only expires the forms open at the time (the page says to reload). The stock
    /// <c>Program.cs</c> does the same in its own composition.
    /// </summary>
    private static void UseInMemoryKeys(IHostApplicationBuilder builder) =>
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();

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
            // A command waits for the broker briefly and says so itself when it gives up.
            builder.Logging.AddFilter<ConsoleLoggerProvider>(typeof(BusStarter).FullName, LogLevel.Error);
        }
    }
}
