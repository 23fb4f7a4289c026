using JobWorker.Settings;
using JobWorker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;

namespace JobWorker.Hosting;

/// <summary>The telemetry block: OpenTelemetry export and the status log.</summary>
public static class TelemetryHostBuilderExtensions
{
    /// <summary>OpenTelemetry export (when an OTLP endpoint is set) and the periodic status log.</summary>
    public static IHostApplicationBuilder AddJobTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSettings<TelemetryOptions>(TelemetryOptions.Section);
        builder.Services.AddHostedService<OpenTelemetryService>();
        builder.Services.AddHostedService<StatusReporter>();
        if (OpenTelemetryService.ExportConfigured)
        {
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeScopes = true;
                logging.AddOtlpExporter();
            });
        }

        return builder;
    }
}
