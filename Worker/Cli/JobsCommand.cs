using System.CommandLine;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Cli;

/// <summary><c>jobworker jobs list|show|retry|cancel|purge</c>: what an operator does to the jobs table, as the dashboard does it.</summary>
internal static class JobsCommand
{
    public static Command Create(IConfiguration configuration) => new("jobs", "Inspect and manage jobs: list, show, retry failed ones, cancel, purge old ones.")
    {
        List(configuration),
        Show(configuration),
        Retry(configuration),
        Cancel(configuration),
        Purge(configuration),
    };

    private static Command List(IConfiguration configuration)
    {
        var state = new Option<JobState?>("--state") { Description = "Only jobs in this state (Awaiting, Pending, Running, Succeeded, Failed, Cancelled)." };
        var type = new Option<string?>("--type") { Description = "Only jobs of this type." };
        var error = new Option<string?>("--error") { Description = "Only jobs whose error contains this text (case-insensitive)." };
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 50, Description = "At most this many, newest first." };
        var due = new Option<bool>("--due") { Description = "Pending jobs only (scheduled, retrying, waiting to run), due soonest first." };
        var command = new Command("list", "List jobs, newest first (as the dashboard's jobs page does).") { state, type, error, limit, due };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(configuration, async services =>
        {
            var filter = new JobFilter { State = parse.GetValue(state), Type = parse.GetValue(type), ErrorContains = parse.GetValue(error) };
            var order = parse.GetValue(due) ? JobOrder.DueSoonest : JobOrder.Newest;
            var jobs = await services.GetRequiredService<JobQueries>().ListAsync(filter, null, Math.Clamp(parse.GetValue(limit), 1, 10_000), cancellationToken, order);
            JobView.List(jobs);
            return CliErrors.Ok;
        }));
        return command;
    }

    private static Command Show(IConfiguration configuration)
    {
        var id = new Argument<Guid>("id") { Description = "The job's id." };
        var command = new Command("show", "Show one job (same as `jobworker status ID`).") { id };
        command.SetAction((parse, cancellationToken) => ShowAsync(configuration, parse.GetValue(id), cancellationToken));
        return command;
    }

    /// <summary>One job as the store records it; <c>jobs show</c> and <c>status</c> both answer with it.</summary>
    public static Task<int> ShowAsync(IConfiguration configuration, Guid jobId, CancellationToken cancellationToken) => WithStoreAsync(configuration, async services =>
    {
        var queries = services.GetRequiredService<JobQueries>();
        var job = await queries.FindAsync(jobId, cancellationToken);
        if (job is null)
        {
            return CliErrors.Report($"no job with id {jobId}", CliErrors.Failed);
        }

        JobView.Show(job, await services.GetRequiredService<JobStore>().ParentsAsync(jobId, cancellationToken));
        return CliErrors.Ok;
    });

    private static Command Retry(IConfiguration configuration)
    {
        var id = new Argument<Guid?>("id") { Description = "The failed job to retry.", Arity = ArgumentArity.ZeroOrOne };
        var allFailed = new Option<bool>("--failed") { Description = "Retry every failed job (narrowed by --type and --error)." };
        var type = new Option<string?>("--type") { Description = "With --failed: only failed jobs of this type." };
        var error = new Option<string?>("--error") { Description = "With --failed: only failed jobs whose error contains this text." };
        var attempts = new Option<int>("--attempts") { DefaultValueFactory = _ => 1, Description = "Attempts to grant each retried job." };
        var command = new Command("retry", "Make failed jobs Pending again, with more attempts; the workers run them.") { id, allFailed, type, error, attempts };
        command.SetAction((parse, cancellationToken) =>
        {
            var jobId = parse.GetValue(id);
            if (jobId is null == !parse.GetValue(allFailed))
            {
                return Task.FromResult(CliErrors.Report("give either a job id or --failed", CliErrors.BadInput));
            }

            return WithStoreAsync(configuration, async services =>
            {
                var control = services.GetRequiredService<JobControl>();
                var extra = Math.Clamp(parse.GetValue(attempts), JobLimits.MinAttempts, JobLimits.MaxAttempts);
                var outcome = jobId is { } one
                    ? await control.RetryAsync(one, extra, cancellationToken)
                    : await control.RetryMatchingAsync(new JobFilter { State = JobState.Failed, Type = parse.GetValue(type), ErrorContains = parse.GetValue(error) }, extra, cancellationToken);
                return jobId is not null && !outcome.Applied ? CliErrors.Report(outcome.Message, CliErrors.Failed) : Print(outcome);
            });
        });
        return command;
    }

    private static Command Cancel(IConfiguration configuration)
    {
        var id = new Argument<Guid>("id") { Description = "The job to cancel." };
        var reason = new Option<string>("--reason") { DefaultValueFactory = _ => "Cancelled by an operator.", Description = "Why; stored as the job's error." };
        var command = new Command("cancel", "Cancel a pending, scheduled or running job (as a CancelJob does).") { id, reason };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(configuration, async services =>
        {
            var outcome = await services.GetRequiredService<JobControl>().CancelAsync(parse.GetValue(id), parse.GetValue(reason)!, cancellationToken);
            return outcome.Applied ? Print(outcome) : CliErrors.Report(outcome.Message, CliErrors.Failed);
        }, withBroker: true));
        return command;
    }

    private static Command Purge(IConfiguration configuration)
    {
        var olderThan = CliDuration.Option("--older-than", "Delete finished jobs that finished longer ago than this: 7d, 12h, 90m or d.hh:mm:ss.");
        olderThan.Required = true;
        var command = new Command("purge", "Delete finished jobs (Succeeded, Failed, Cancelled) past their retention.") { olderThan };
        command.SetAction((parse, cancellationToken) => WithStoreAsync(configuration, async services =>
        {
            var store = services.GetRequiredService<JobStore>();
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

    private static int Print(JobActionOutcome outcome)
    {
        Console.WriteLine(outcome.Message);
        return CliErrors.Ok;
    }

    /// <summary>
    /// Runs <paramref name="action"/> in a small host: the store, its queries and the operator actions, and with
    /// <paramref name="withBroker"/> the bus too (publishing only, consuming nothing), for the CancelJob notice.
    /// </summary>
    internal static Task<int> WithStoreAsync(IConfiguration configuration, Func<IServiceProvider, Task<int>> action, bool withBroker = false) => CliErrors.RunAsync(async () =>
    {
        var builder = JobWorkerHost.CreateCommandBuilder(configuration);
        builder.AddJobPersistence(_ => "jobworker-cli");
        builder.AddJobStore();
        if (withBroker)
        {
            builder.AddJobMessaging(consumeJobs: false);
        }

        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // MassTransit's send and publish endpoints are scoped: from the root provider they fail in Development,
            // where the host validates scopes, so a command's services come from a scope of its own.
            await using var scope = host.Services.CreateAsyncScope();
            return await action(scope.ServiceProvider);
        }
        finally
        {
            await host.StopAsync();
        }
    });
}
