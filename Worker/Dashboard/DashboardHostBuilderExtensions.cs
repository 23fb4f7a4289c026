using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Settings;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Dashboard;

/// <summary>The operator dashboard: jobs by state, throughput, queues, replicas, every job's history, and retry and cancel.</summary>
public static class DashboardHostBuilderExtensions
{
    /// <summary>
    /// The dashboard block: the <c>Dashboard</c> settings, the ledger queries and operator actions behind the pages, the
    /// broker's queue depths, and antiforgery. When <c>Dashboard:Enabled</c> and <c>Dashboard:Port</c> is not 0, the host
    /// also listens on <c>Dashboard:Address:Dashboard:Port</c> (loopback by default; the health block adds the listener). <c>AddJobWorker()</c>
    /// adds it; needs the persistence and messaging blocks.
    /// </summary>
    public static IHostApplicationBuilder AddJobWorkerDashboard(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddSettings<DashboardOptions>(DashboardOptions.Section);
        builder.AddJobStore();
        services.TryAddSingleton<JobControl>();
        services.TryAddSingleton<BrokerQueues>();
        services.TryAddSingleton<DashboardAccess>();
        services.TryAddSingleton<DashboardSessions>();
        services.TryAddSingleton<SignInThrottle>();
        services.TryAddSingleton(TimeProvider.System);
        // The pages are Razor components rendered on the server through RazorComponentResult; nothing interactive.
        services.AddRazorComponents();
        services.AddHostedService<DashboardStartupReport>();
        // Antiforgery uses the host's data protection; the stock hosts keep its keys in memory (JobWorkerHost).
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "jobworker-dashboard-antiforgery";
            antiforgery.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
            antiforgery.FormFieldName = "__antiforgery";
        });
        return builder;
    }

    /// <summary>
    /// Serves the dashboard under <c>Dashboard:Path</c> (<c>/dashboard</c>) when <c>Dashboard:Enabled</c>; maps nothing
    /// otherwise. With <c>Dashboard:Port</c> set, only requests to that port reach it. Only requests naming one of
    /// <c>Dashboard:AllowedHosts</c> are answered, and only from loopback peers unless <c>Dashboard:AllowRemote</c>; it
    /// is read-only unless <c>Dashboard:ActionsEnabled</c>, and then acting needs a session started by signing in with
    /// <c>Dashboard:Token</c> and an antiforgery token on every POST.
    /// </summary>
    public static IEndpointRouteBuilder MapJobWorkerDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<DashboardOptions>>().Value;
        if (options.Enabled)
        {
            DashboardRoutes.Map(endpoints, options);
        }

        return endpoints;
    }
}
