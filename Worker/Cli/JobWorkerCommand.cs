using System.CommandLine;
using Spectre.Console;

namespace JobWorker.Cli;

/// <summary>The <c>jobworker</c> command line. With no command it runs the worker.</summary>
public static class JobWorkerCommand
{
    public static RootCommand Create()
    {
        if (Console.IsOutputRedirected)
        {
            // Logs and CI capture plain text; colour codes would only be noise there.
            AnsiConsole.Profile.Capabilities.Ansi = false;
            AnsiConsole.Profile.Width = 160;
        }

        var root = new RootCommand("JobWorker: runs jobs published to RabbitMQ and records each job's life in PostgreSQL.")
        {
            RunCommand.Create(),
            MigrateCommand.Create(),
            SubmitCommand.Create(),
            StatusCommand.Create(),
            JobsCommand.Create(),
            Benchmarks.BenchCommand.Create(),
        };
        root.SetAction((_, _) => RunCommand.RunAsync());
        return root;
    }
}
