using System.CommandLine;
using JobWorker.Hosting;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Cli;

/// <summary><c>jobworker run</c>: the worker itself, until SIGTERM or Ctrl+C.</summary>
internal static class RunCommand
{
    public static Command Create(Action<IHostApplicationBuilder> configureWorker)
    {
        var command = new Command("run", "Run the worker (the default command): consume jobs until stopped.");
        command.SetAction((_, _) => RunAsync(configureWorker));
        return command;
    }

    public static Task<int> RunAsync(Action<IHostApplicationBuilder> configureWorker) => CliErrors.RunAsync(async () =>
    {
        using var host = JobWorkerHost.BuildWorker(configureWorker);
        await host.RunAsync();
        return CliErrors.Ok;
    });
}
