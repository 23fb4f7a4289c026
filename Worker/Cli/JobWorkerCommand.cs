using System.CommandLine;
using JobWorker.Hosting;
using Microsoft.AspNetCore.Builder;
using Spectre.Console;

namespace JobWorker.Cli;

/// <summary>
/// The <c>jobworker</c> command line, for the stock executable and for a team's own: <c>run</c> (the default),
/// <c>migrate</c>, <c>submit</c>, <c>status</c>, <c>jobs</c>, <c>queues</c>, <c>recurring</c>, <c>limits</c>,
/// <c>dashboard</c>, and <c>bench</c> when the host asks for it (<see cref="JobWorkerCommandLine.IncludeBench"/>).
/// </summary>
/// <example>
/// A host of one's own, in its <c>Program.cs</c>:
/// <code>
/// var builder = WebApplication.CreateBuilder(args);
/// builder.AddJobWorker().AddJobHandler&lt;ResizeImageHandler&gt;("resize-image");
/// return await builder.RunJobWorkerAsync(args, app => app.MapJobWorkerHealth());
/// </code>
/// </example>
public static class JobWorkerCommand
{
    /// <summary>
    /// Runs what <paramref name="args"/> ask for. With none, or <c>run</c>: builds the application from
    /// <paramref name="builder"/>, lets <paramref name="configureApp"/> map its endpoints, and runs it until SIGTERM or
    /// Ctrl+C. With another command (<c>submit</c>, <c>migrate</c>, <c>jobs</c>, ...): runs that command in a small host
    /// of its own, on <paramref name="builder"/>'s configuration, and builds nothing of the worker. Either way a bad
    /// setting or an unreachable service ends in one line on stderr and an exit code, not a stack trace.
    /// </summary>
    /// <param name="builder">The application's builder, on which <c>AddJobWorker()</c> was called.</param>
    /// <param name="args">The process's arguments.</param>
    /// <param name="configureApp">
    /// Maps the built application's endpoints: <c>MapJobWorkerHealth()</c>, and <c>MapJobWorkerDashboard()</c> to
    /// serve the dashboard when <c>Dashboard:Enabled</c>.
    /// </param>
    /// <returns>The exit code: 0 done, 1 failed, 2 bad input or settings, 3 database or broker unavailable.</returns>
    /// <exception cref="InvalidOperationException"><c>AddJobWorker()</c> was not called on <paramref name="builder"/>.</exception>
    public static Task<int> RunJobWorkerAsync(this WebApplicationBuilder builder, string[] args, Action<WebApplication> configureApp) =>
        RunJobWorkerAsync(builder, args, configureApp, _ => { });

    /// <summary>
    /// As <see cref="RunJobWorkerAsync(WebApplicationBuilder, string[], Action{WebApplication})"/>, with a command line
    /// <paramref name="configureCommandLine"/> shapes: <c>bench</c> in or out (out by default), commands of the host's own.
    /// </summary>
    /// <param name="builder">The application's builder, on which <c>AddJobWorker()</c> was called.</param>
    /// <param name="args">The process's arguments.</param>
    /// <param name="configureApp">Maps the built application's endpoints.</param>
    /// <param name="configureCommandLine">Chooses the commands, e.g. <c>commandLine =&gt; commandLine.IncludeBench = true</c>.</param>
    /// <returns>The exit code: 0 done, 1 failed, 2 bad input or settings (an unknown command too), 3 database or broker unavailable.</returns>
    public static Task<int> RunJobWorkerAsync(
        this WebApplicationBuilder builder, string[] args, Action<WebApplication> configureApp, Action<JobWorkerCommandLine> configureCommandLine)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configureApp);
        ArgumentNullException.ThrowIfNull(configureCommandLine);
        if (!builder.HasJobWorker())
        {
            throw new InvalidOperationException("The application has no JobWorker in it: call builder.AddJobWorker() before RunJobWorkerAsync.");
        }

        JobWorkerListeners.OwnProcess(builder.Services);

        var commandLine = new JobWorkerCommandLine();
        configureCommandLine(commandLine);
        return InvokeAsync(Create(builder, configureApp, commandLine).Parse(args));
    }

    // System.CommandLine ends a parse error with 1, which the exit codes reserve for "the command ran and failed";
    // a word or value the parser refused is bad input, 2, as the commands' own checks report it.
    private static async Task<int> InvokeAsync(ParseResult parse)
    {
        var exitCode = await parse.InvokeAsync();
        return parse.Errors.Count > 0 && parse.Action is System.CommandLine.Invocation.ParseErrorAction ? CliErrors.BadInput : exitCode;
    }

    /// <summary>The command line: <c>run</c> builds and runs the application; the other commands read its configuration.</summary>
    internal static RootCommand Create(WebApplicationBuilder builder, Action<WebApplication> configureApp, JobWorkerCommandLine commandLine)
    {
        if (Console.IsOutputRedirected)
        {
            // Logs and CI capture plain text; colour codes would only be noise there.
            AnsiConsole.Profile.Capabilities.Ansi = false;
            AnsiConsole.Profile.Width = 160;
        }

        var configuration = builder.Configuration;
        CliErrors.Configuration = configuration;
        var root = new RootCommand("JobWorker: runs jobs published to RabbitMQ and records each job's life in PostgreSQL.")
        {
            RunCommand.Create(builder, configureApp),
            MigrateCommand.Create(configuration),
            SubmitCommand.Create(configuration),
            StatusCommand.Create(configuration),
            JobsCommand.Create(configuration),
            QueuesCommand.Create(configuration),
            RecurringCommand.Create(configuration),
            LimitsCommand.Create(configuration),
            DashboardCommand.Create(configuration),
        };
        if (commandLine.IncludeBench)
        {
            root.Subcommands.Add(BenchCommand.Create(configuration));
        }

        root.SetAction((_, _) => RunCommand.RunAsync(builder, configureApp));
        commandLine.Configure?.Invoke(root);
        return root;
    }
}
