using JobWorker.Jobs;
using JobWorker.Settings;
using JobWorker.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace JobWorker.Hosting;

/// <summary>The telemetry block: OpenTelemetry (JobWorker's signals and the libraries' under it) and the status log.</summary>
public static class TelemetryHostBuilderExtensions
{
    /// <summary>Meters and activity sources of JobWorker and of the libraries it drives, by name.</summary>
    internal static readonly string[] Sources = [JobWorkerTelemetry.Name, "MassTransit"];

    /// <summary>The meter Polly.Extensions reports retries, breaker transitions and timeouts on.</summary>
    internal const string PollyMeter = "Polly";

    /// <summary>
    /// OpenTelemetry through the hosting SDK, exporting over OTLP when an endpoint is set (the standard <c>OTEL_*</c>
    /// settings configure it), and the periodic status log. JobWorker's sources, meters and instrumentation join any
    /// OpenTelemetry SDK the host adds itself (<c>services.AddOpenTelemetry()</c> with an exporter of its choice), with
    /// or without an OTLP endpoint; such a host sets <c>Telemetry:OtlpExport</c> to false when it exports over OTLP itself.
    /// </summary>
    public static IHostApplicationBuilder AddJobTelemetry(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<TelemetryOptions>(TelemetryOptions.Section);
        services.AddHostedService<StatusReporter>();

        // These register configuration only: no provider exists, and no span or measurement is recorded, until an SDK is added.
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .ConfigureResource(WorkerResource)
            .AddSource(Sources)
            .AddNpgsql()
            .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = IsNotHealthProbe)
            .AddHttpClientInstrumentation());
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .ConfigureResource(WorkerResource)
            .AddMeter(Sources)
            .AddMeter(PollyMeter)
            .AddNpgsqlInstrumentation()
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation()
            .AddRuntimeInstrumentation());
        services.ConfigureOpenTelemetryLoggerProvider(logging => logging.ConfigureResource(WorkerResource));
        services.Configure<OpenTelemetryLoggerOptions>(logging => logging.IncludeScopes = true);

        if (OtlpExport.IsOn(builder.Configuration))
        {
            services.AddOpenTelemetry().WithTracing().WithMetrics().WithLogging().UseOtlpExporter();
        }

        return builder;
    }

    private static void WorkerResource(ResourceBuilder resource) => resource
        .AddDetector(sp => new WorkerResourceDetector(sp.GetService<WorkerIdentity>()?.Id))
        .AddEnvironmentVariableDetector();

    // Orchestrators probe the health endpoints every few seconds; a trace each time would drown the jobs' traces.
    private static bool IsNotHealthProbe(HttpContext context) => !context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);
}
