using System.CommandLine;
using JobWorker.Hosting;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Cli;

/// <summary><c>jobworker run</c>: the worker itself, until SIGTERM or Ctrl+C.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run the worker (the default command): consume jobs until stopped.");
        command.SetAction((_, _) => RunAsync());
        return command;
    }

    public static Task<int> RunAsync() => CliErrors.RunAsync(async () =>
    {
        using var host = JobWorkerHost.BuildWorker();
        await host.RunAsync();
        return CliErrors.Ok;
    });
}
