using System.CommandLine;
using Microsoft.AspNetCore.Builder;

namespace JobWorker.Cli;

/// <summary><c>jobworker run</c>: the worker itself, the application its <c>Program.cs</c> composed, until SIGTERM or Ctrl+C.</summary>
internal static class RunCommand
{
    public static Command Create(WebApplicationBuilder builder, Action<WebApplication> configureApp)
    {
        var command = new Command("run", "Run the worker (the default command): consume jobs until stopped.");
        command.SetAction((_, _) => RunAsync(builder, configureApp));
        return command;
    }

    /// <summary>
    /// Builds and runs the application. Building resolves settings (the shutdown timeout, the listeners), so it happens
    /// here, where an invalid one becomes a one-line configuration error.
    /// </summary>
    public static Task<int> RunAsync(WebApplicationBuilder builder, Action<WebApplication> configureApp) => CliErrors.RunAsync(async () =>
    {
        await using var app = builder.Build();
        configureApp(app);
        try
        {
            await ApplicationRunner.RunAsync(app);
        }
        catch (Exception) when (Environment.ExitCode != CliErrors.Ok)
        {
            // Stopped on purpose, with an exit code of its own, while still starting (JobQueuePriorityRecheck): the start's
            // own failure (the broker it was waiting for) follows from the stop, and the stop's code is the answer.
        }

        // A fatal condition found while running stops the application with an exit code of its own (JobQueuePriorityRecheck).
        return Environment.ExitCode != CliErrors.Ok ? Environment.ExitCode : CliErrors.Ok;
    });
}
