using JobWorker.Cli;
using JobWorker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using ReportHost;

// A team's own worker: JobWorker with one job type of its own, and the whole jobworker command line
// (run, migrate, submit, status, jobs, bench) for it.
return await JobWorkerCommand.Create(worker =>
{
    worker.AddJobWorker().AddJobHandler<SalesReportHandler>(SalesReportHandler.JobType);
    worker.Services.AddOptions<ReportOptions>().BindConfiguration(ReportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
}).Parse(args).InvokeAsync();
