using JobWorker.Settings;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>
/// <c>/health/live</c> (the process answers and its slots are not wedged) and <c>/health/ready</c> (database reachable,
/// bus connected, consumption running, maintenance duties ticking), answered as JSON with each check's status, reason and data.
/// </summary>
public static class HealthEndpoints
{
    internal const string LiveTag = "live";
    internal const string ReadyTag = "ready";

    /// <summary>
    /// The health block: the <c>Health</c> settings, the checks behind both endpoints, and a listener on
    /// <c>Health:Port</c> on all interfaces (probes come from the kubelet or Docker), added beside the application's own
    /// URLs (see <see cref="JobWorkerListeners"/>).
    /// </summary>
    public static IHostApplicationBuilder AddJobWorkerHealth(this IHostApplicationBuilder builder)
    {
        // MassTransit adds its bus check (tagged "ready") to the same health check service.
        builder.AddHealthListener()
            .AddCheck<JobSlotsHealthCheck>("slots", tags: [LiveTag])
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            .AddCheck<ConsumptionHealthCheck>("consumption", tags: [ReadyTag])
            .AddCheck<MaintenanceHealthCheck>("maintenance", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>
    /// The standalone dashboard's health (<c>jobworker dashboard</c>), on the same listener and endpoints: live while the
    /// process answers, ready while the database answers and the bus is connected. It runs no jobs, so it has no slots,
    /// consumption or maintenance duties to report.
    /// </summary>
    internal static IHostApplicationBuilder AddDashboardHealth(this IHostApplicationBuilder builder)
    {
        builder.AddHealthListener().AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>The <c>Health</c> settings, and <c>Health:Port</c> on all interfaces beside the application's own URLs.</summary>
    private static IHealthChecksBuilder AddHealthListener(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<HealthOptions>(HealthOptions.Section);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HealthOptions>, HealthOptionsValidator>());
        JobWorkerListeners.Register(services);
        services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations.Where(r => r.Tags.Contains(ReadyTag)))
            {
                var inner = registration.Factory;
                registration.Factory = sp => inner(sp) is var check && check is BrokerReasonHealthCheck ? check : new BrokerReasonHealthCheck(check);
            }
        });
        return services.AddHealthChecks().AddCheck<BusStartHealthCheck>("bus-start", tags: [ReadyTag]);
    }

    /// <summary>
    /// Serves <c>/health/live</c> and <c>/health/ready</c> as JSON (each check's status, reason and facts): 200 when
    /// healthy, 503 when not.
    /// </summary>
    public static IEndpointRouteBuilder MapJobWorkerHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(HealthOptions.LivePath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(LiveTag), ResponseWriter = WriteAsync });
        endpoints.MapHealthChecks(HealthOptions.ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync });
        return endpoints;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                // Flat facts only (our checks' numbers); MassTransit's per-endpoint tree stays out of the probe's answer.
                data = e.Value.Data.Where(d => d.Value is string or bool or int or long or double).ToDictionary(d => d.Key, d => d.Value) is { Count: > 0 } facts
                    ? facts
                    : null,
            }),
        });
    }
}
