using System.CommandLine;
using JobWorker.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobWorker.Cli;

/// <summary>
/// <c>jobworker queues [list]|pause [QUEUE]|resume [QUEUE]</c>: pausing a queue across the fleet, as the dashboard's
/// button does. QUEUE defaults to <c>Jobs:QueueName</c>.
/// </summary>
internal static class QueuesCommand
{
    public static Command Create(IConfiguration configuration)
    {
        var command = new Command("queues", "Show whether the queue is paused; pause or resume it on every replica.")
        {
            List(configuration),
            Pause(configuration),
            Resume(configuration),
        };
        command.SetAction((_, cancellationToken) => ListAsync(configuration, null, cancellationToken));
        return command;
    }

    private static Argument<string?> QueueArgument() =>
        new("queue") { Description = "The queue (default: Jobs:QueueName).", Arity = ArgumentArity.ZeroOrOne };

    private static Command List(IConfiguration configuration)
    {
        var queue = QueueArgument();
        var command = new Command("list", "Show whether the queue is paused, since when, by whom and why.") { queue };
        command.SetAction((parse, cancellationToken) => ListAsync(configuration, parse.GetValue(queue), cancellationToken));
        return command;
    }

    private static Task<int> ListAsync(IConfiguration configuration, string? queue, CancellationToken cancellationToken) =>
        JobsCommand.WithStoreAsync(configuration, async services =>
        {
            var name = QueueOf(services, queue);
            var pause = await services.GetRequiredService<QueueControl>().FindPauseAsync(name, cancellationToken);
            Console.WriteLine(pause is null ? $"{name}: running" : $"{name}: PAUSED ({pause.Describe()})");
            return CliErrors.Ok;
        });

    private static Command Pause(IConfiguration configuration)
    {
        var queue = QueueArgument();
        var reason = new Option<string?>("--reason") { Description = "Why; shown by status, readiness and the dashboard." };
        var command = new Command("pause", "Pause the queue on every replica: no new job starts until it is resumed; running jobs finish.") { queue, reason };
        command.SetAction((parse, cancellationToken) => JobsCommand.WithStoreAsync(configuration, async services =>
        {
            var by = $"{Environment.UserName}@{Environment.MachineName} (cli)";
            var outcome = await services.GetRequiredService<QueueControl>().PauseAsync(QueueOf(services, parse.GetValue(queue)), by, parse.GetValue(reason), cancellationToken);
            Console.WriteLine(outcome.Message);
            return CliErrors.Ok;
        }));
        return command;
    }

    private static Command Resume(IConfiguration configuration)
    {
        var queue = QueueArgument();
        var command = new Command("resume", "Resume a paused queue: the replicas take its jobs again within a tick, the backlog first.") { queue };
        command.SetAction((parse, cancellationToken) => JobsCommand.WithStoreAsync(configuration, async services =>
        {
            var outcome = await services.GetRequiredService<QueueControl>().ResumeAsync(QueueOf(services, parse.GetValue(queue)), cancellationToken);
            Console.WriteLine(outcome.Message);
            return CliErrors.Ok;
        }));
        return command;
    }

    private static string QueueOf(IServiceProvider services, string? queue) =>
        string.IsNullOrWhiteSpace(queue) ? services.GetRequiredService<IOptions<JobOptions>>().Value.QueueName : queue.Trim();
}
