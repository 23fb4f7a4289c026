using JobWorker.Cli;
using JobWorker.Dashboard;
using JobWorker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

// The stock jobworker: the whole worker with the handlers JobWorker ships (delay, noop), its health endpoints and
// dashboard. The arguments choose what the process does: none, or `run`, builds this application and runs it until
// SIGTERM; any other command (submit, status, jobs, migrate, dashboard, bench) runs on its configuration and exits.
// A team's own host is this file with its own builder and handlers: see samples/ReportHost.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    // appsettings.json beside the executable, wherever the process starts; then Section__Key environment variables.
    ContentRootPath = AppContext.BaseDirectory,
});

// The dashboard's antiforgery tokens need data protection keys: kept in memory, nothing written to disk. A restart only
// expires the forms open at the time.
builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
builder.AddJobWorker().AddBuiltInHandlers();

return await builder.RunJobWorkerAsync(
    args,
    app =>
    {
        app.MapJobWorkerHealth();
        app.MapJobWorkerDashboard();
    },
    // JobWorker's own benchmark, which creates its databases: on in the stock executable, off in a team's host.
    commandLine => commandLine.IncludeBench = true);

