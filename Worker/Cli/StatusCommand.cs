using System.CommandLine;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

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

            var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
            void Row(string field, object? value) => table.AddRow(field, Markup.Escape(value?.ToString() ?? "-"));
            Row("id", job.Id);
            Row("type", job.Type);
            Row("state", job.State);
            Row("attempt", $"{job.Attempt} of {job.MaxAttempts}");
            Row("owner", job.Owner);
            Row("created", job.CreatedAt.ToString("O"));
            Row("started", job.StartedAt?.ToString("O"));
            Row("finished", job.FinishedAt?.ToString("O"));
            Row("updated", job.UpdatedAt.ToString("O"));
            Row("error", job.Error);
            Row("result", job.Result);
            Row("payload", job.Payload.Length > 200 ? job.Payload[..200] + "…" : job.Payload);
            AnsiConsole.Write(table);
            return CliErrors.Ok;
        }));
        return command;
    }
}
