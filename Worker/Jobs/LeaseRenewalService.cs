using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Keeps the jobs running in this replica's slots owned: every third of the lease it extends theirs (only theirs) in
/// one statement. The answer also carries each job's cancel request, which stops its handler here, and leaves out a
/// job that is no longer this replica's. A handler whose lease could not be renewed for a whole lease is stopped:
/// recovery may already have handed its job to another replica. When the process dies the renewals stop, the leases
/// lapse, and recovery takes the jobs back.
/// </summary>
internal sealed partial class LeaseRenewalService(
    JobStore store, JobSlots slots, WorkerIdentity worker, IOptions<JobOptions> options, ILogger<LeaseRenewalService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = options.Value.LeaseDuration;
        using var timer = new PeriodicTimer(lease / 3);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RenewAsync(lease, stoppingToken);
        }
    }

    internal async Task RenewAsync(TimeSpan lease, CancellationToken cancellationToken)
    {
        var running = slots.Running;
        if (running.Count == 0)
        {
            return;
        }

        var asked = Stopwatch.GetTimestamp();
        try
        {
            // Bounded by two thirds of the lease, not by the tick: a renewal queued behind other transitions for a pooled
            // connection keeps its place rather than giving up and starting again at the back.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(lease * 2 / 3);
            var renewed = (await store.RenewLeasesAsync(worker.Id, [.. running.Select(j => (j.JobId, j.Claimed.Attempt))], lease, bound.Token))
                .ToDictionary(r => (r.JobId, r.Attempt), r => r.CancelReason);
            foreach (var job in running)
            {
                if (!renewed.TryGetValue((job.JobId, job.Claimed.Attempt), out var cancelReason))
                {
                    // Finished just now, or taken back: in either case this replica must not run it on.
                    if (!job.HandlerReturned && slots.TryGet(job.JobId, job.Claimed.Attempt, out var still) && ReferenceEquals(still, job) && job.Stop(JobStop.LeaseLost))
                    {
                        LogNotOurs(logger, job.JobId, job.Claimed.Attempt);
                    }
                }
                else
                {
                    job.LeaseRenewedAt = asked;
                    if (cancelReason is not null && job.Stop(JobStop.Cancelled, cancelReason))
                    {
                        LogCancelRequested(logger, job.JobId, cancelReason);
                    }
                }
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogRenewalFailed(logger, running.Count, Resilience.DatabaseErrors.Describe(e));
        }

        foreach (var job in running)
        {
            if (!job.HandlerReturned && Stopwatch.GetElapsedTime(job.LeaseRenewedAt) >= lease && job.Stop(JobStop.LeaseLost))
            {
                LogLeaseLost(logger, job.JobId, job.Claimed.Attempt, lease);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the leases of {Running} running jobs ({Reason}); will try again at the next tick")]
    private static partial void LogRenewalFailed(ILogger logger, int running, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt}: lease not renewed for {Lease}; stopping its handler, since another replica may run it now")]
    private static partial void LogLeaseLost(ILogger logger, Guid jobId, int attempt, TimeSpan lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} is no longer this replica's; stopping its handler")]
    private static partial void LogNotOurs(ILogger logger, Guid jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: cancel requested ({Reason}); stopping its handler")]
    private static partial void LogCancelRequested(ILogger logger, Guid jobId, string reason);
}
