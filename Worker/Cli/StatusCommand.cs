using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace JobWorker.Cli;

/// <summary><c>jobworker status ID</c>: one job as the store records it (the same as <c>jobworker jobs show ID</c>).</summary>
internal static class StatusCommand
{
    public static Command Create(IConfiguration configuration)
    {
        var id = new Argument<Guid>("id") { Description = "The job's id (the JobId of its SubmitJob)." };
        var command = new Command("status", "Show one job's state, attempts, owner, times, error and result.") { id };
        command.SetAction((parse, cancellationToken) => JobsCommand.ShowAsync(configuration, parse.GetValue(id), cancellationToken));
        return command;
    }
}
