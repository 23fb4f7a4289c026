using JobWorker.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Releases this queue's continuations (jobs held Awaiting for their <c>After</c> parents) once their parents finished, as
/// Hangfire's continuations do: every replica, no leader, in small batches. <see cref="JobLifecycle.Continue"/> decides each
/// (Pending and due now, or Cancelled naming a parent that ended Failed or Cancelled) and <see cref="JobCompleter"/> applies
/// it fenced on state Awaiting, so a child is released exactly once however many replicas and parents race for it. The
/// dispatcher then sends it like any due job; the hot statements (claim, dispatch) never see an Awaiting job.
/// </summary>
/// <remarks>
/// Parents are looked up by id, in any queue; a parent not yet submitted holds the child until it arrives and finishes. A
/// parent deleted by retention before its child was submitted holds the child for ever (cancel it): see the docs' limits.
/// </remarks>
internal sealed partial class ContinuationReleaser(
    JobStore store, JobCompleter completer, IOptions<ContinuationOptions> options, IOptions<JobOptions> jobs,
    ILogger<ContinuationReleaser> logger) : MaintenanceService(logger)
{
    /// <summary>Full batches one tick decides at most, so a large release spreads over ticks instead of one long one.</summary>
    private const int MaxBatchesPerTick = 10;

    public override string Name => "continuations";

    /// <summary>A failing releaser only holds continuations longer; readiness shows it, degraded.</summary>
    public override bool Critical => false;

    public override TimeSpan Interval => options.Value.Interval;

    /// <summary>One tick: decides every continuation of this queue whose parents finished; returns how many were applied.</summary>
    public async Task<int> ReleaseAsync(CancellationToken cancellationToken)
    {
        var batchSize = options.Value.BatchSize;
        var released = 0;
        for (var batch = 0; batch < MaxBatchesPerTick; batch++)
        {
            var ready = await store.AwaitingReadyAsync(jobs.Value.QueueName, batchSize, cancellationToken);
            var outcomes = ready.Select(JobLifecycle.Continue).OfType<JobOutcome>().ToList();
            var applied = await Task.WhenAll(outcomes.Select(o => completer.ApplyAsync(o, cancellationToken)));
            foreach (var one in applied.OfType<AppliedOutcome>())
            {
                released++;
                if (one.State == JobState.Cancelled)
                {
                    LogCancelled(logger, one.Outcome.JobId, one.Event.Error);
                }
                else
                {
                    LogReleased(logger, one.Outcome.JobId, one.Outcome.JobType);
                }
            }

            if (ready.Count < batchSize)
            {
                break;
            }
        }

        return released;
    }

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => ReleaseAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({JobType}): its parents finished; Pending, due now")]
    private static partial void LogReleased(ILogger logger, Guid jobId, string jobType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: Cancelled before it ran: {Reason}")]
    private static partial void LogCancelled(ILogger logger, Guid jobId, string? reason);
}
