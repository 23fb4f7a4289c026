using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace JobWorker.Cli;

/// <summary>
/// The <c>jobworker</c> command line, for the stock executable and for a team's own: <c>run</c> (the default),
/// <c>migrate</c>, <c>submit</c>, <c>status</c>, <c>jobs</c>, <c>dashboard</c> and <c>bench</c>.
/// </summary>
/// <example>
/// A host of one's own, in its <c>Program.cs</c>:
/// <code>
/// return await JobWorkerCommand.Create(worker => worker.AddJobWorker().AddJobHandler&lt;ResizeImage&gt;("resize-image"))
///     .Parse(args).InvokeAsync();
/// </code>
/// </example>
public static class JobWorkerCommand
{
    /// <summary>Builds the command line.</summary>
    /// <param name="configureWorker">
    /// Composes the worker that <c>run</c> (and <c>bench</c>) start: call <c>AddJobWorker()</c> on the builder it is
    /// given, add job handlers and any services they need.
    /// </param>
    public static RootCommand Create(Action<IHostApplicationBuilder> configureWorker)
    {
        ArgumentNullException.ThrowIfNull(configureWorker);
        if (Console.IsOutputRedirected)
        {
            // Logs and CI capture plain text; colour codes would only be noise there.
            AnsiConsole.Profile.Capabilities.Ansi = false;
            AnsiConsole.Profile.Width = 160;
        }

        var root = new RootCommand("JobWorker: runs jobs published to RabbitMQ and records each job's life in PostgreSQL.")
        {
            RunCommand.Create(configureWorker),
            MigrateCommand.Create(),
            SubmitCommand.Create(),
            StatusCommand.Create(),
            JobsCommand.Create(),
            DashboardCommand.Create(),
            BenchCommand.Create(configureWorker),
        };
        root.SetAction((_, _) => RunCommand.RunAsync(configureWorker));
        return root;
    }
}
