using System.CommandLine;

namespace JobWorker.Cli;

/// <summary>
/// What the <c>jobworker</c> command line of a host holds, for
/// <see cref="JobWorkerCommand.RunJobWorkerAsync(Microsoft.AspNetCore.Builder.WebApplicationBuilder, string[], Action{Microsoft.AspNetCore.Builder.WebApplication}, Action{JobWorkerCommandLine})"/>.
/// </summary>
/// <example>
/// <code>
/// return await builder.RunJobWorkerAsync(args, app => app.MapJobWorkerHealth(), commandLine =>
/// {
///     commandLine.IncludeBench = true;
///     commandLine.Configure = root => root.Subcommands.Add(new Command("reindex", "Rebuilds the search index."));
/// });
/// </code>
/// </example>
public sealed class JobWorkerCommandLine
{
    /// <summary>
    /// Whether <c>bench</c> is a command. Off unless set: it creates and drops databases of its own on the configured
    /// server and measures JobWorker's built-in handlers, which is JobWorker's benchmark, not a team's. The stock
    /// <c>jobworker</c> executable turns it on.
    /// </summary>
    public bool IncludeBench { get; set; }

    /// <summary>
    /// Changes the finished command line, as System.CommandLine allows: add a command of the host's own
    /// (<c>root.Subcommands.Add(...)</c>), or remove or hide one of JobWorker's (<c>Hidden = true</c>).
    /// </summary>
    public Action<RootCommand>? Configure { get; set; }
}
