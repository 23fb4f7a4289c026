using System.CommandLine;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Cli;

/// <summary><c>jobworker status ID</c>: one job as the store records it.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var id = new Argument<Guid>("id") { Description = "The job's id (the JobId of its SubmitJob)." };
        var command = new Command("status", "Show one job's state, attempts, owner, times, error and result.") { id };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var builder = JobWorkerHost.CreateBuilder(quiet: true);
            builder.AddJobPersistence(_ => "jobworker-cli");
            builder.Services.AddSingleton<JobStore>();
            using var host = builder.Build();

            var jobId = parse.GetValue(id);
            var job = await host.Services.GetRequiredService<JobStore>().FindAsync(jobId, cancellationToken);
            if (job is null)
            {
                return CliErrors.Report($"no job with id {jobId}", CliErrors.Failed);
            }

            JobView.Show(job);
            return CliErrors.Ok;
        }));
        return command;
    }
}
