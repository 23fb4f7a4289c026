using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Keeps this replica's Running jobs owned: every third of the lease it extends them all in one statement.
/// When the process dies the renewals stop, the leases lapse and another replica may take the jobs over.
/// </summary>
public sealed partial class LeaseRenewalService(
    JobStore store, InFlightJobs inFlight, WorkerIdentity worker, IOptions<JobOptions> options,
    ILogger<LeaseRenewalService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = options.Value.LeaseDuration;
        using var timer = new PeriodicTimer(lease / 3);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (inFlight.Count == 0)
            {
                continue;
            }

            try
            {
                await store.RenewLeasesAsync(worker.Id, lease, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRenewalFailed(logger, e, inFlight.Count);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the leases of {InFlight} running jobs; will try again at the next tick")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, int inFlight);
}
