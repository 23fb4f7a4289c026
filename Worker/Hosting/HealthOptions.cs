using System.ComponentModel.DataAnnotations;

namespace JobWorker.Hosting;

/// <summary>The health endpoints' HTTP listener. Section <c>Health</c>.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Liveness: the process is responsive.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness: the database answers, the bus is connected, and consumption is not paused.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Port the health listener binds on all interfaces (probes come from the kubelet or Docker); 0 picks a free one.</summary>
    [Range(0, 65535, ErrorMessage = "Health:Port must be between 0 and 65535.")]
    public int Port { get; set; } = 8080;
}
