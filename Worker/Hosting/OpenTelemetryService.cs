using JobWorker.Telemetry;
using JobWorker.Jobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace JobWorker.Hosting;

/// <summary>
/// Creates the OpenTelemetry SDK (traces from JobWorker, MassTransit and Npgsql; metrics from the same three
/// meters) at start and disposes it, flushing, at stop. Export is OTLP, configured by the standard OTEL_*
/// variables, and off when no endpoint is set.
/// </summary>
internal sealed partial class OpenTelemetryService(WorkerIdentity worker, ILogger<OpenTelemetryService> logger) : IHostedService
{
    public static readonly string[] Sources = [JobWorkerTelemetry.Name, "MassTransit", "Npgsql"];

    private OpenTelemetrySdk? _sdk;

    /// <summary>True when an OTLP endpoint is configured for any signal.</summary>
    public static bool ExportConfigured =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" }
            .Any(v => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(v)));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!ExportConfigured)
        {
            LogExportOff(logger);
            return Task.CompletedTask;
        }

        _sdk = OpenTelemetrySdk.Create(otel => otel
            .ConfigureResource(resource => resource.AddService("jobworker", serviceInstanceId: worker.Id))
            .WithTracing(tracing => tracing.AddSource(Sources))
            .WithMetrics(metrics => metrics.AddMeter(Sources))
            .UseOtlpExporter());
        LogExportOn(logger, Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") ?? "(per-signal endpoints)");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sdk?.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenTelemetry export is off; set OTEL_EXPORTER_OTLP_ENDPOINT to send traces, metrics and logs")]
    private static partial void LogExportOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenTelemetry exporting traces, metrics and logs over OTLP to {Endpoint}")]
    private static partial void LogExportOn(ILogger logger, string endpoint);
}
