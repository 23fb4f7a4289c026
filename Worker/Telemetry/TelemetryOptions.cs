using System.ComponentModel.DataAnnotations;

namespace JobWorker.Telemetry;

/// <summary>
/// The status log, and who runs the OpenTelemetry SDK. Section <c>Telemetry</c>. OpenTelemetry export itself is
/// configured by the standard <c>OTEL_*</c> variables (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_SERVICE_NAME</c>, ...)
/// and is off when no endpoint is set.
/// </summary>
internal sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>How often the one-line status log is written; 0 turns it off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Telemetry:StatusInterval must be between 0 and 1 h.")]
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether JobWorker adds the OpenTelemetry SDK, exporting over OTLP, when an OTLP endpoint is set. False for a host
    /// that adds its own SDK and exporters (OpenTelemetry refuses <c>UseOtlpExporter</c> beside <c>AddOtlpExporter</c>);
    /// JobWorker's signals join that SDK either way. Read when the host is composed.
    /// </summary>
    public bool OtlpExport { get; set; } = true;
}
