using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobWorker.Hosting;

/// <summary>
/// <c>/health/live</c> (the process answers and its slots are not wedged) and <c>/health/ready</c> (database reachable,
/// bus connected, consumption running, dispatcher ticking), answered as JSON with each check's status, reason and data.
/// </summary>
public static class HealthEndpoints
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static IServiceCollection AddJobWorkerHealthChecks(this IServiceCollection services)
    {
        // MassTransit adds its bus check (tagged "ready") to the same health check service.
        services.AddHealthChecks()
            .AddCheck<JobSlotsHealthCheck>("slots", tags: [LiveTag])
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            .AddCheck<ConsumptionHealthCheck>("consumption", tags: [ReadyTag])
            .AddCheck<DispatcherHealthCheck>("dispatcher", tags: [ReadyTag]);
        return services;
    }

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
