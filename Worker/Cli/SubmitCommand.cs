using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobWorker.Cli;

/// <summary><c>jobworker submit</c>: sends SubmitJob messages to the worker queue and, with --wait, follows them to the end.</summary>
internal static class SubmitCommand
{
    public static Command Create(IConfiguration configuration)
    {
        var type = new Option<string>("--type") { Required = true, Description = "Job type, e.g. delay or noop." };
        var payload = new Option<string>("--payload") { DefaultValueFactory = _ => "{}", Description = "The job's payload as JSON, e.g. '{\"ms\":250}'." };
        var count = new Option<int>("--count") { DefaultValueFactory = _ => 1, Description = "How many jobs to submit, each with its own id." };
        var wait = new Option<bool>("--wait") { Description = "Follow the jobs until each is Succeeded, Failed or Cancelled; exit 0 only if all Succeeded." };
        var maxAttempts = new Option<int?>("--max-attempts") { Description = "Attempts per job (the worker's Submissions:DefaultMaxAttempts when absent)." };
        var timeout = CliDuration.OptionalOption("--timeout", "Per-attempt time limit: 30s, 10m, 2h, 1d or hh:mm:ss (the worker's Submissions:DefaultTimeout when absent).");
        var at = new Option<DateTimeOffset?>("--at") { Description = "Run the job no earlier than this time, e.g. 2026-12-01T08:00:00Z (UTC unless an offset is given)." };
        var @in = new Option<string?>("--in") { Description = "Run the job no earlier than this long from now: 90s, 10m, 2h, 1d, or hh:mm:ss." };
        var after = new Option<Guid[]>("--after") { Description = "Run the job only after this job has Succeeded (repeat for several parents); it is held Awaiting until then.", AllowMultipleArgumentsPerToken = false };
        var afterAny = new Option<bool>("--after-any") { Description = "With --after: run once every parent has finished, however it ended (not only after all Succeeded)." };
        var concurrencyKey = new Option<string?>("--concurrency-key") { Description = "The key (e.g. a tenant) that Limits:<type>:PerKeyConcurrency counts runs by." };
        var waitTimeout = CliDuration.Option("--wait-timeout", "With --wait: give up after this long: 90s, 10m, 2h or hh:mm:ss (default 10m).");
        waitTimeout.DefaultValueFactory = _ => TimeSpan.FromMinutes(10);
        var priority = new Option<int>("--priority") { DefaultValueFactory = _ => 0, Description = $"0 to {JobLimits.MaxPriority}; higher runs first (default 0)." };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1_000_000)
            {
                r.AddError("--count must be between 1 and 1000000.");
            }
        });

        var command = new Command("submit", "Submit jobs to the worker queue.") { type, payload, count, wait, maxAttempts, timeout, at, @in, after, afterAny, waitTimeout, priority, concurrencyKey };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            JsonElement payloadJson;
            try
            {
                payloadJson = JsonSerializer.Deserialize<JsonElement>(parse.GetValue(payload)!);
            }
            catch (JsonException e)
            {
                return CliErrors.Report($"--payload is not valid JSON: {e.Message}", CliErrors.BadInput);
            }

            if (parse.GetValue(at) is not null && parse.GetValue(@in) is not null)
            {
                return CliErrors.Report("give --at or --in, not both", CliErrors.BadInput);
            }

            TimeSpan? delay = null;
            if (parse.GetValue(@in) is { } inText)
            {
                if (CliDuration.Parse(inText) is not { } parsed)
                {
                    return CliErrors.Report($"--in '{inText}' is not a duration such as {CliDuration.Forms}", CliErrors.BadInput);
                }

                delay = parsed;
            }

            var parents = parse.GetValue(after) ?? [];
            if (parents.Length > 0 && (parse.GetValue(at) is not null || parse.GetValue(@in) is not null))
            {
                return CliErrors.Report("give --after or --at/--in, not both: a continuation is due as soon as its parents finish", CliErrors.BadInput);
            }

            if (parse.GetValue(afterAny) && parents.Length == 0)
            {
                return CliErrors.Report("--after-any needs at least one --after ID", CliErrors.BadInput);
            }

            if (parse.GetValue(priority) is < JobLimits.MinPriority or > JobLimits.MaxPriority)
            {
                return CliErrors.Report($"--priority must be between {JobLimits.MinPriority} and {JobLimits.MaxPriority}", CliErrors.BadInput);
            }

            var runAt = parse.GetValue(at)?.UtcDateTime;
            var builder = JobWorkerHost.CreateCommandBuilder(configuration);
            builder.AddJobPersistence(_ => "jobworker-cli");
            builder.AddJobMessaging(consumeJobs: false);
            builder.AddJobStore();
            using var host = builder.Build();
            await host.StartAsync(cancellationToken);
            try
            {
                var messages = Enumerable.Range(0, parse.GetValue(count)).Select(_ => new SubmitJob
                {
                    JobId = NewId.NextGuid(),
                    JobType = parse.GetValue(type)!,
                    Payload = payloadJson,
                    MaxAttempts = parse.GetValue(maxAttempts),
                    Timeout = parse.GetValue(timeout),
                    RunAt = runAt,
                    Delay = delay,
                    After = parents.Length > 0 ? parents : null,
                    AfterAny = parse.GetValue(afterAny),
                    Priority = parse.GetValue(priority),
                    ConcurrencyKey = parse.GetValue(concurrencyKey),
                }).ToList();

                var monitor = parse.GetValue(wait) ? JobProgressMonitor.Create(host.Services) : null;
                await using (monitor)
                {
                    if (monitor is not null)
                    {
                        // The first count compiles its query; done now, the first progress line is not late behind busy workers.
                        await monitor.WarmUpAsync(cancellationToken);
                    }

                    var clock = Stopwatch.StartNew();
                    await SendAsync(host.Services, messages, cancellationToken);
                    var queue = host.Services.GetRequiredService<IOptions<JobOptions>>().Value.QueueName;
                    var due = parents.Length > 0 ? $", held until {(parse.GetValue(afterAny) ? "its" : "all")} {parents.Length} parent job(s) {(parse.GetValue(afterAny) ? "finish" : "Succeeded")}"
                        : runAt is { } when ? $", due at {when:u}" : delay is { } wait ? $", due {wait} after it is accepted" : "";
                    Console.WriteLine(messages.Count == 1
                        ? $"Submitted job {messages[0].JobId} ({messages[0].JobType}) to queue {queue}{due}."
                        : $"Submitted {messages.Count} {messages[0].JobType} jobs to queue {queue} in {clock.Elapsed.TotalSeconds:F1} s{due}.");

                    return monitor is null
                        ? CliErrors.Ok
                        : await monitor.FollowAsync([.. messages.Select(m => m.JobId)], clock, parse.GetValue(waitTimeout), cancellationToken);
                }
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        }));
        return command;
    }

    private static async Task SendAsync(IServiceProvider services, List<SubmitJob> messages, CancellationToken cancellationToken)
    {
        var queue = services.GetRequiredService<IOptions<JobOptions>>().Value.QueueName;
        var rabbit = services.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
        var address = await DurableQueues.JobsSendAddressAsync(queue, rabbit, cancellationToken);
        // ISendEndpointProvider is scoped: from the root provider it fails where the host validates scopes (Development).
        await using var scope = services.CreateAsyncScope();
        var endpoint = await scope.ServiceProvider.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(address);
        foreach (var chunk in messages.Chunk(100))
        {
            await Task.WhenAll(chunk.Select(m => endpoint.Send(m, context =>
            {
                DurableQueues.Priority(context, m.Priority);
                DurableQueues.Mandatory(context);
            }, cancellationToken)));
        }
    }
}
