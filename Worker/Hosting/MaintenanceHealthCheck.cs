using JobWorker.Jobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>
/// Readiness: every maintenance duty (rescuer, dispatcher, event sweep, heartbeat, reaper, continuation releaser) is ticking:
/// its last ticks did not fail <see cref="FailuresToReport"/> times in a row, and one succeeded within its bound. Names the
/// ones that are failing, with the reason; a failing heartbeat, reaper or releaser only degrades (nothing but the dashboard
/// reads the first, the second only lets finished jobs stay longer, the third only holds continuations longer).
/// </summary>
internal sealed class MaintenanceHealthCheck(IEnumerable<MaintenanceService> duties) : IHealthCheck
{
    /// <summary>One failed tick is a blip that the next tick retries; this many in a row is a failing duty.</summary>
    public const int FailuresToReport = 3;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var failing = new List<(MaintenanceService Duty, string Why)>();
        foreach (var duty in duties)
        {
            var since = duty.SinceLastSuccess;
            data[$"{duty.Name}.lastSuccessSecondsAgo"] = since?.TotalSeconds ?? -1;
            data[$"{duty.Name}.failures"] = duty.Failures;
            if (since is { } ago && ago <= duty.TickBound && duty.Failures < FailuresToReport)
            {
                continue;
            }

            var why = duty.Failures >= FailuresToReport ? $"{duty.Failures} failed ticks in a row"
                : since is null ? "no successful tick yet" : $"no successful tick for {since.Value.TotalSeconds:F0} s";
            failing.Add((duty, duty.LastError is { } error ? $"{why}: {error}" : why));
        }

        if (failing.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy($"Ticking: {string.Join(", ", duties.Select(d => d.Name))}.", data));
        }

        var description = string.Join("; ", failing.Select(f => $"{f.Duty.Name}: {f.Why}"));
        return Task.FromResult(failing.Any(f => f.Duty.Critical)
            ? HealthCheckResult.Unhealthy(description, data: data)
            : HealthCheckResult.Degraded(description, data: data));
    }
}
