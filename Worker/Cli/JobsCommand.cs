using System.CommandLine;
using JobWorker.Contracts;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobWorker.Cli;

/// <summary><c>jobworker jobs list|show|retry|purge</c>: what an operator does to the jobs table.</summary>
internal static class JobsCommand
{
    public static Command Create() => new("jobs", "Inspect and manage jobs: list, show, retry failed ones, purge old ones.")
    {
        List(),
        Show(),
        Retry(),
        Purge(),
    };

    private static Command List()
    {
        var state = new Option<JobState?>("--state") { Description = "Only jobs in this state (Pending, Running, Succeeded, Failed, Cancelled)." };
        var type = new Option<string?>("--type") { Description = "Only jobs of this type." };
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 50, Description = "At most this many, newest first." };
        var command = new Command("list", "List jobs, newest first.") { state, type, limit };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(async (store, _) =>
        {
            JobView.List(await store.ListAsync(parse.GetValue(state), parse.GetValue(type), Math.Clamp(parse.GetValue(limit), 1, 10_000), cancellationToken));
            return CliErrors.Ok;
        }));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<Guid>("id") { Description = "The job's id." };
        var command = new Command("show", "Show one job (same as `jobworker status ID`).") { id };
        command.SetAction((parse, cancellationToken) => ShowAsync(parse.GetValue(id), cancellationToken));
        return command;
    }

    /// <summary>One job as the store records it; <c>jobs show</c> and <c>status</c> both answer with it.</summary>
    public static Task<int> ShowAsync(Guid jobId, CancellationToken cancellationToken) => WithStoreAsync(async (store, _) =>
    {
        var job = await store.FindAsync(jobId, cancellationToken);
        if (job is null)
        {
            return CliErrors.Report($"no job with id {jobId}", CliErrors.Failed);
        }

        JobView.Show(job);
        return CliErrors.Ok;
    });

    private static Command Retry()
    {
        var id = new Argument<Guid?>("id") { Description = "The failed job to retry.", Arity = ArgumentArity.ZeroOrOne };
        var allFailed = new Option<bool>("--failed") { Description = "Retry every failed job." };
        var attempts = new Option<int>("--attempts") { DefaultValueFactory = _ => 1, Description = "Attempts to grant each retried job." };
        var command = new Command("retry", "Make failed jobs Pending again, with more attempts; the workers run them.") { id, allFailed, attempts };
        command.SetAction((parse, cancellationToken) =>
        {
            var jobId = parse.GetValue(id);
            if (jobId is null == !parse.GetValue(allFailed))
            {
                return Task.FromResult(CliErrors.Report("give either a job id or --failed", CliErrors.BadInput));
            }

            return WithStoreAsync(async (store, services) =>
            {
                var requeued = await store.RequeueFailedAsync(jobId, Math.Clamp(parse.GetValue(attempts), JobLimits.MinAttempts, JobLimits.MaxAttempts), cancellationToken);
                if (jobId is not null && requeued == 0)
                {
                    return CliErrors.Report($"job {jobId} is not Failed (or does not exist); nothing to retry", CliErrors.Failed);
                }

                var tick = services.GetRequiredService<IOptions<DispatchOptions>>().Value.Interval;
                Console.WriteLine($"Requeued {requeued} failed job(s) as Pending, due now; a running worker's dispatcher sends them within {tick.TotalSeconds:0.#} s.");
                return CliErrors.Ok;
            });
        });
        return command;
    }

    private static Command Purge()
    {
        var olderThan = new Option<TimeSpan>("--older-than") { Required = true, Description = "Delete finished jobs that finished longer ago than this, e.g. 7.00:00:00 for 7 days." };
        var command = new Command("purge", "Delete finished jobs (Succeeded, Failed, Cancelled) past their retention.") { olderThan };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(async (store, _) =>
        {
            var age = parse.GetValue(olderThan);
            if (age < TimeSpan.Zero)
            {
                return CliErrors.Report("--older-than must not be negative", CliErrors.BadInput);
            }

            var deleted = await store.PurgeFinishedAsync(age, cancellationToken);
            Console.WriteLine($"Deleted {deleted} finished job(s) older than {age}.");
            return CliErrors.Ok;
        }));
        return command;
    }

    private static Task<int> WithStoreAsync(Func<JobStore, IServiceProvider, Task<int>> action) => CliErrors.RunAsync(async () =>
    {
        var builder = JobWorkerHost.CreateBuilder(quiet: true);
        builder.AddJobPersistence(_ => "jobworker-cli");
        builder.AddJobStore();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            return await action(host.Services.GetRequiredService<JobStore>(), host.Services);
        }
        finally
        {
            await host.StopAsync();
        }
    });
}
