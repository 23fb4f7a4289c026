using JobWorker.Persistence;
using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Deletes this queue's finished jobs past their retention (<c>Retention:*</c>), with their events, as River's job cleaner
/// does: in small batches, oldest first, on every replica with no leader (a batch skips the rows another replica's batch
/// holds), and never a Pending, Running or scheduled job.
/// </summary>
/// <remarks>
/// A tick deletes at most <c>Retention:MaxBatchesPerTick</c> full batches per state, then waits for the next tick: a large
/// backlog (a first start with retention, or a lowered setting) drains over several ticks instead of loading the database
/// in one go.
/// </remarks>
internal sealed partial class JobReaper(
    JobStore store, IOptions<RetentionOptions> options, IOptions<JobOptions> jobs, ILogger<JobReaper> logger) : MaintenanceService(logger)
{
    public override string Name => "reaper";

    /// <summary>A failing reaper only lets finished jobs stay longer; readiness shows it, degraded.</summary>
    public override bool Critical => false;

    public override TimeSpan Interval => options.Value.Interval;

    /// <summary>One tick: deletes what expired, in bounded batches; returns how many jobs were deleted.</summary>
    public async Task<int> ReapAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var queue = jobs.Value.QueueName;
        var total = 0;
        foreach (var (state, keepFor) in settings.Limits())
        {
            var deleted = 0;
            for (var batch = 0; batch < settings.MaxBatchesPerTick; batch++)
            {
                var count = await store.ReapFinishedAsync(queue, state, keepFor, settings.BatchSize, cancellationToken);
                deleted += count;
                if (count < settings.BatchSize)
                {
                    break;
                }
            }

            if (deleted > 0)
            {
                JobWorkerTelemetry.JobsDeleted.Add(deleted, new KeyValuePair<string, object?>("jobworker.job.state", state.ToString()));
                LogDeleted(logger, deleted, state.ToString(), keepFor);
                total += deleted;
            }
        }

        return total;
    }

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => ReapAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: deleted {Count} {State} job(s) finished more than {KeepFor} ago")]
    private static partial void LogDeleted(ILogger logger, int count, string state, TimeSpan keepFor);
}
