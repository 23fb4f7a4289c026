using System.CommandLine;
using JobWorker.Hosting;
using Microsoft.Extensions.Configuration;

namespace JobWorker.Cli;

/// <summary><c>jobworker dashboard</c>: the operator dashboard on its own, apart from the workers, until SIGTERM or Ctrl+C.</summary>
internal static class DashboardCommand
{
    public static Command Create(IConfiguration configuration)
    {
        var command = new Command("dashboard",
            "Serve the operator dashboard alone: reads the job database, publishes CancelJob, consumes no jobs. Listens on Dashboard:Address:Dashboard:Port (127.0.0.1:8090).");
        command.SetAction((_, _) => CliErrors.RunAsync(async () =>
        {
            await using var app = JobWorkerHost.BuildDashboard(configuration);
            await ApplicationRunner.RunAsync(app);
            return CliErrors.Ok;
        }));
        return command;
    }
}
