using JobWorker.Jobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>
/// Liveness: the worker is wedged when work is waiting for a slot, every slot is taken, and no job has been claimed or
/// finished for <c>Health:WedgedAfter</c>. Reports the slots either way, so a probe shows jobs in flight.
/// </summary>
internal sealed class JobSlotsHealthCheck(JobSlots slots, IOptions<HealthOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (busy, waiting, since) = (slots.Busy, slots.Waiting, slots.SinceLastProgress);
        var data = new Dictionary<string, object>
        {
            ["busy"] = busy,
            ["capacity"] = slots.Capacity,
            ["waiting"] = waiting,
            ["secondsSinceProgress"] = Math.Round(since.TotalSeconds, 1),
        };
        var wedged = waiting > 0 && busy >= slots.Capacity && since > options.Value.WedgedAfter;
        return Task.FromResult(wedged
            ? HealthCheckResult.Unhealthy(
                $"Wedged: {waiting} deliveries wait, all {slots.Capacity} slots are taken, and no job was claimed or finished for {since.TotalSeconds:F0} s (Health:WedgedAfter {options.Value.WedgedAfter}).",
                data: data)
            : HealthCheckResult.Healthy($"{busy}/{slots.Capacity} slots busy, {waiting} waiting.", data));
    }
}
