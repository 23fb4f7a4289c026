using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Takes back this queue's Running jobs whose lease lapsed (their worker died, or lost the database for a whole lease), as
/// River's rescuer does: <see cref="JobLifecycle.Recover"/> decides each (retry after the backoff, or Failed when no attempt
/// is left; a requested cancel ends it Cancelled) and <see cref="JobCompleter"/> applies it, fenced on the lease still being
/// lapsed, so replicas racing for the same job, or an owner that renewed in between, are harmless.
/// </summary>
/// <remarks>
/// Promise: after any single fault, a job whose worker is gone is back in play within <c>Jobs:LeaseDuration</c> plus one
/// tick: Pending, due after the retry backoff (<c>Retries:*</c>, as after a failed run), or Failed on its last attempt.
/// </remarks>
internal sealed partial class JobRescuer(
    JobStore store, JobLifecycle lifecycle, JobCompleter completer, IOptions<DispatchOptions> options, IOptions<JobOptions> jobs,
    ILogger<JobRescuer> logger) : MaintenanceService(logger)
{
    public override string Name => "rescuer";

    public override TimeSpan Interval => options.Value.Interval;

    /// <summary>Takes back every lapsed job of this queue; returns how many outcomes were applied.</summary>
    public async Task<int> RescueAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var lease = jobs.Value.LeaseDuration;
        var rescued = 0;
        List<LapsedJob> lapsed;
        do
        {
            lapsed = await store.LapsedAsync(jobs.Value.QueueName, settings.BatchSize, cancellationToken);
            var applied = await Task.WhenAll(lapsed.Select(job => completer.ApplyAsync(lifecycle.Recover(job, lease), cancellationToken)));
            foreach (var one in applied.OfType<AppliedOutcome>())
            {
                rescued++;
                LogRescued(logger, one.Outcome.JobId, one.Outcome.Attempt, one.State.ToString(), one.Event.Error);
            }
        }
        while (lapsed.Count == settings.BatchSize);

        return rescued;
    }

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => RescueAsync(cancellationToken);

    internal static void LogRescued(ILogger logger, Guid jobId, int attempt, string state, string? reason) =>
        LogRescuedCore(logger, jobId, attempt, state, JobLogText.Reason(reason));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the lease of attempt {Attempt} lapsed; rescued to {State}: {Reason}")]
    private static partial void LogRescuedCore(ILogger logger, Guid jobId, int attempt, string state, string reason);
}
