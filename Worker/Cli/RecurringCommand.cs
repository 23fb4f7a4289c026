using System.CommandLine;
using JobWorker.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace JobWorker.Cli;

/// <summary>
/// <c>jobworker recurring list|pause KEY|resume KEY|trigger KEY|add KEY …|remove KEY</c>: recurring schedules, as the
/// dashboard's Recurring page shows and changes them.
/// </summary>
internal static class RecurringCommand
{
    public static Command Create(IConfiguration configuration)
    {
        var command = new Command("recurring", "List recurring schedules; pause, resume or trigger one; add or remove one at run time.")
        {
            List(configuration),
            Act(configuration, "pause", "Pause a schedule on every replica: none of its occurrences fires until it is resumed.",
                (control, key, ct) => control.PauseAsync(key, $"{Environment.UserName}@{Environment.MachineName} (cli)", ct)),
            Act(configuration, "resume", "Resume a paused schedule from its next occurrence (the paused ones are not caught up).",
                (control, key, ct) => control.ResumeAsync(key, ct)),
            Act(configuration, "trigger", "Run a schedule's job once now; its next run does not move.",
                (control, key, ct) => control.TriggerAsync(key, ct)),
            Add(configuration),
            Act(configuration, "remove", "Remove a schedule added with `recurring add` (one from configuration or code is removed there).",
                (control, key, ct) => control.RemoveAsync(key, ct)),
        };
        command.SetAction((_, cancellationToken) => ListAsync(configuration, cancellationToken));
        return command;
    }

    private static Command List(IConfiguration configuration)
    {
        var command = new Command("list", "Show every schedule: cron, zone, next run, last occurrence and its job's state, paused or disabled.");
        command.SetAction((_, cancellationToken) => ListAsync(configuration, cancellationToken));
        return command;
    }

    private static Task<int> ListAsync(IConfiguration configuration, CancellationToken cancellationToken) =>
        JobsCommand.WithStoreAsync(configuration, async services =>
        {
            var schedules = await services.GetRequiredService<RecurringControl>().ListAsync(cancellationToken);
            if (schedules.Count == 0)
            {
                Console.WriteLine("No recurring schedules.");
                return CliErrors.Ok;
            }

            var table = new Table().AddColumns("key", "queue", "cron", "zone", "status", "next run (UTC)", "last occurrence (UTC)", "last job", "source");
            foreach (var s in schedules)
            {
                table.AddRow(
                    Markup.Escape(s.Key), Markup.Escape(s.Queue), Markup.Escape(s.Cron), Markup.Escape(s.TimeZone),
                    s.Status + (s.LastSkippedAt is { } skipped ? $" (skipped {skipped:HH:mm:ss})" : ""), Time(s.NextRunAt), Time(s.LastOccurrenceAt),
                    s.LastState?.ToString() ?? "-", s.Source.ToString());
            }

            AnsiConsole.Write(table);
            return CliErrors.Ok;
        });

    private static Command Act(IConfiguration configuration, string name, string description, Func<RecurringControl, string, CancellationToken, Task<JobActionOutcome>> action)
    {
        var key = new Argument<string>("key") { Description = "The schedule's key." };
        var command = new Command(name, description) { key };
        command.SetAction((parse, cancellationToken) => JobsCommand.WithStoreAsync(configuration, async services =>
        {
            var outcome = await action(services.GetRequiredService<RecurringControl>(), parse.GetValue(key)!.Trim(), cancellationToken);
            return Report(outcome);
        }));
        return command;
    }

    private static Command Add(IConfiguration configuration)
    {
        var key = new Argument<string>("key") { Description = "The schedule's key: letters, digits, '.', '_' and '-'." };
        var cron = new Option<string>("--cron") { Description = "Five fields, or six with seconds first, e.g. '0 */5 * * * *'.", Required = true };
        var type = new Option<string>("--type") { Description = "The job type to run (a worker of the queue must handle it).", Required = true };
        var payload = new Option<string?>("--payload") { Description = "The jobs' payload, as JSON text." };
        var zone = new Option<string>("--time-zone") { Description = "IANA time zone of the cron expression.", DefaultValueFactory = _ => "UTC" };
        var queue = new Option<string?>("--queue") { Description = "The queue whose replicas fire it (default: Jobs:QueueName)." };
        var command = new Command("add", "Add (or replace) a schedule at run time; the replicas of its queue fire it within a tick.") { key, cron, type, payload, zone, queue };
        command.SetAction((parse, cancellationToken) =>
            RecurringControl.AddProblem(parse.GetValue(key)!.Trim(), parse.GetValue(cron)!, parse.GetValue(type)!, parse.GetValue(payload), parse.GetValue(zone)!) is { } problem
                ? Task.FromResult(CliErrors.Report(problem, CliErrors.BadInput))
                : JobsCommand.WithStoreAsync(configuration, async services =>
        {
            var name = parse.GetValue(queue) is { Length: > 0 } q ? q.Trim() : services.GetRequiredService<IOptions<JobOptions>>().Value.QueueName;
            var outcome = await services.GetRequiredService<RecurringControl>().AddAsync(
                name, parse.GetValue(key)!.Trim(), parse.GetValue(cron)!, parse.GetValue(type)!, parse.GetValue(payload), parse.GetValue(zone)!, cancellationToken);
            return Report(outcome);
        }));
        return command;
    }

    private static int Report(JobActionOutcome outcome)
    {
        if (!outcome.Applied)
        {
            return CliErrors.Report(outcome.Message, CliErrors.Failed);
        }

        Console.WriteLine(outcome.Message);
        return CliErrors.Ok;
    }

    private static string Time(DateTime? at) => at?.ToString("yyyy-MM-dd HH:mm:ss") ?? "-";
}
