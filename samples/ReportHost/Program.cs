using JobWorker.Cli;
using JobWorker.Hosting;
using ReportHost;

// A team's own worker, on its own builder: the full ASP.NET Core defaults, a configuration source and a log format of
// its own, JobWorker with one job type of its own, and the whole jobworker command line for it. The arguments choose:
// none, or `run`, builds and runs this application; `migrate`, `submit`, `status`, `jobs`, ... run on its
// configuration (REPORTHOST_ variables included) and exit.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // appsettings.json beside the executable, wherever the process starts.
    ContentRootPath = AppContext.BaseDirectory,
});

// Settings for this host alone (REPORTHOST_Jobs__QueueName=reports-eu), above the shared Section__Key variables.
builder.Configuration.AddEnvironmentVariables(prefix: "REPORTHOST_");

// One line per entry with a full UTC timestamp, as the team's log shipper reads them.
builder.Logging.ClearProviders().AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.UseUtcTimestamp = true;
    console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
});

builder.Services.AddOptions<ReportOptions>().BindConfiguration(ReportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.AddJobWorker().AddJobHandler<SalesReportHandler>(SalesReportHandler.JobType);

return await builder.RunJobWorkerAsync(args, app =>
{
    app.MapJobWorkerHealth();
    app.MapGet("/", () => "reporthost: sales reports; health at /health/ready");
});
