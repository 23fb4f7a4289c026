using System.ComponentModel.DataAnnotations;

namespace JobWorker.Hosting;

/// <summary>The health endpoints' HTTP listener, and when a worker counts as wedged. Section <c>Health</c>.</summary>
internal sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Liveness: the process is responsive and its job slots are not wedged.</summary>
    public const string LivePath = "/health/live";

    /// <summary>Readiness: the database answers, the bus is connected, consumption runs, and the dispatcher ticks.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Port the health listener binds on all interfaces (probes come from the kubelet or Docker); 0 picks a free one.</summary>
    [Range(0, 65535, ErrorMessage = "Health:Port must be between 0 and 65535.")]
    public int Port { get; set; } = 8080;

    /// <summary>
    /// Liveness fails when work is waiting, every job slot is taken, and no job has been claimed or finished for this
    /// long: the worker is wedged, and a restart frees it. Set it above the longest time all slots can legitimately be
    /// busy with long jobs.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00", ErrorMessage = "Health:WedgedAfter must be between 10 s and 7 days.")]
    public TimeSpan WedgedAfter { get; set; } = TimeSpan.FromMinutes(15);
}
