using JobWorker.Telemetry;
using Microsoft.Extensions.Configuration;

namespace JobWorker.Hosting;

/// <summary>
/// Whether an OTLP endpoint is configured, by the standard <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c> keys (environment
/// variables, or any other configuration source): without one nothing is exported, rather than sent to a default
/// endpoint nobody set up.
/// </summary>
internal static class OtlpExport
{
    private static readonly string[] EndpointKeys =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    /// <summary>Whether JobWorker adds the SDK and its OTLP export: an endpoint is set, and the host has not taken the SDK over.</summary>
    public static bool IsOn(IConfiguration configuration) =>
        Endpoint(configuration) is not null && configuration.GetValue($"{TelemetryOptions.Section}:{nameof(TelemetryOptions.OtlpExport)}", true);

    /// <summary>The configured endpoint (the per-signal ones when only they are set), or null when export is off.</summary>
    public static string? Endpoint(IConfiguration configuration)
    {
        var endpoints = EndpointKeys.Select(key => configuration[key]).Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
        return endpoints.Count == 0 ? null : string.Join(", ", endpoints.Distinct());
    }
}
