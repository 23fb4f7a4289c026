using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace JobWorker.Dashboard;

/// <summary>
/// The dashboard's routes, one line each. Every request first passes <see cref="DashboardFilter"/> (host, peer,
/// security headers); pages are Razor components under Pages/, and every POST answers with a redirect back to the page.
/// </summary>
internal static class DashboardRoutes
{
    public static void Map(IEndpointRouteBuilder endpoints, DashboardOptions options)
    {
        var group = endpoints.MapGroup(options.Path).ExcludeFromDescription().AddEndpointFilter<DashboardFilter>();
        if (options.Port != 0)
        {
            // Only on the dashboard's own listener, not on the health port the kubelet reaches.
            group.RequireHost($"*:{options.Port}");
        }

        group.MapGet("/", OverviewHandler.HandleAsync);
        group.MapGet("/jobs", JobsHandler.HandleAsync);
        group.MapGet("/jobs/{id:guid}", JobHandler.HandleAsync);
        group.MapGet("/recurring", RecurringHandler.HandleAsync);
        group.MapGet("/limits", LimitsHandler.HandleAsync);
        group.MapGet("/login", SignInHandler.Show);
        group.MapGet("/assets/{name}", AssetHandler.Handle);
        group.MapPost("/login", SignInHandler.HandleAsync);
        group.MapPost("/logout", SignOutHandler.HandleAsync);
        group.MapPost("/jobs/{id:guid}/retry", JobActionHandler.RetryAsync);
        group.MapPost("/jobs/{id:guid}/cancel", JobActionHandler.CancelAsync);
        group.MapPost("/jobs/retry-failed", JobActionHandler.RetryFailedAsync);
        group.MapPost("/queue/pause", QueueActionHandler.PauseAsync);
        group.MapPost("/queue/resume", QueueActionHandler.ResumeAsync);
        group.MapPost("/recurring/{key}/pause", RecurringActionHandler.PauseAsync);
        group.MapPost("/recurring/{key}/resume", RecurringActionHandler.ResumeAsync);
        group.MapPost("/recurring/{key}/trigger", RecurringActionHandler.TriggerAsync);
    }
}
