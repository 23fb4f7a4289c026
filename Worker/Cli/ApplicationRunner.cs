using Microsoft.Extensions.Hosting;

namespace JobWorker.Cli;

/// <summary>Runs a built application until SIGTERM or Ctrl+C, and stops it cleanly when it fails to start.</summary>
internal static class ApplicationRunner
{
    /// <summary>
    /// As <c>RunAsync</c>, except that a start that fails (a port in use, a broker that never answered) stops what did
    /// start before the failure surfaces. Left to disposal, the services already running were cancelled as if they had
    /// crashed, and the host logged a misleading <c>crit … BackgroundService failed OperationCanceledException</c>.
    /// </summary>
    public static async Task RunAsync(IHost host)
    {
        try
        {
            await host.StartAsync();
        }
        catch (Exception)
        {
            // Bounded by HostOptions.ShutdownTimeout, as every stop is.
            await host.StopAsync();
            throw;
        }

        await host.WaitForShutdownAsync();
    }
}
