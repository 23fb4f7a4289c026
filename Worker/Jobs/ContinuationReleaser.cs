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
/// A tick looks only at the children of parents that finished within <see cref="ContinuationOptions.RecentWindow"/>
/// (<see cref="JobSql.AwaitingRecent"/>), so its cost does not grow with the held children or with <c>job_parents</c>'
/// history. On start and every <see cref="ContinuationOptions.SweepInterval"/> a sweep reads every held child of the queue
/// instead (<see cref="JobSql.AwaitingSweep"/>), for parents that finished while no releaser looked. A child whose parents
/// had all finished before it arrived is decided when it is accepted (<see cref="JobProcessor"/>). Parents are looked up by
/// id, in any queue; a parent not yet submitted holds the child until it arrives and finishes. Retention keeps a finished
/// parent while a held child names it; one deleted before its child was submitted holds the child for ever (cancel it).
/// </remarks>
internal sealed partial class ContinuationReleaser(
    JobStore store, JobCompleter completer, IOptions<ContinuationOptions> options, IOptions<JobOptions> jobs,
    ILogger<ContinuationReleaser> logger) : MaintenanceService(logger)
{
    /// <summary>Full batches one tick decides at most, so a large release spreads over ticks instead of one long one.</summary>
    private const int MaxBatchesPerTick = 10;

    /// <summary>Held children one sweep statement reads, ready or not.</summary>
    private const int SweepPage = 500;

    /// <summary>When the next sweep is due (<see cref="Environment.TickCount64"/>); 0: on the first tick.</summary>
    private long _sweepDue;

    public override string Name => "continuations";

    /// <summary>A failing releaser only holds continuations longer; readiness shows it, degraded.</summary>
    public override bool Critical => false;

    public override TimeSpan Interval => options.Value.Interval;

    /// <summary>
    /// One tick: decides every continuation of this queue whose parents finished lately, or, when a sweep is due, every
    /// held one whose parents finished; returns how many decisions were applied.
    /// </summary>
    public async Task<int> ReleaseAsync(CancellationToken cancellationToken)
    {
        var sweep = Environment.TickCount64 >= _sweepDue;
        var (released, cancelled) = sweep ? await SweepAsync(cancellationToken) : await ReleaseRecentAsync(cancellationToken);
        if (sweep)
        {
            _sweepDue = Environment.TickCount64 + (long)options.Value.SweepInterval.TotalMilliseconds;
        }

        if (released + cancelled > 0)
        {
            LogTick(logger, released, cancelled, sweep);
        }

        return released + cancelled;
    }

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => ReleaseAsync(cancellationToken);

    private async Task<(int Released, int Cancelled)> ReleaseRecentAsync(CancellationToken cancellationToken)
    {
        var batchSize = options.Value.BatchSize;
        var (released, cancelled) = (0, 0);
        for (var batch = 0; batch < MaxBatchesPerTick; batch++)
        {
            var ready = await store.AwaitingRecentAsync(jobs.Value.QueueName, batchSize, options.Value.RecentWindow, cancellationToken);
            var (r, c) = await ApplyAsync(ready, cancellationToken);
            (released, cancelled) = (released + r, cancelled + c);
            if (ready.Count < batchSize)
            {
                break;
            }
        }

        return (released, cancelled);
    }

    private async Task<(int Released, int Cancelled)> SweepAsync(CancellationToken cancellationToken)
    {
        var (released, cancelled) = (0, 0);
        AwaitingJob? last = null;
        while (true)
        {
            var page = await store.AwaitingSweepAsync(jobs.Value.QueueName, SweepPage, last, cancellationToken);
            var (r, c) = await ApplyAsync(page, cancellationToken);
            (released, cancelled) = (released + r, cancelled + c);
            if (page.Count < SweepPage)
            {
                return (released, cancelled);
            }

            last = page[^1];
        }
    }

    private async Task<(int Released, int Cancelled)> ApplyAsync(List<AwaitingJob> held, CancellationToken cancellationToken)
    {
        var (released, cancelled) = (0, 0);
        var outcomes = held.Select(JobLifecycle.Continue).OfType<JobOutcome>().ToList();
        var applied = await Task.WhenAll(outcomes.Select(o => completer.ApplyAsync(o, cancellationToken)));
        foreach (var one in applied.OfType<AppliedOutcome>())
        {
            if (one.State == JobState.Cancelled)
            {
                cancelled++;
                LogCancelled(logger, one.Outcome.JobId, one.Event.Error);
            }
            else
            {
                released++;
                LogReleased(logger, one.Outcome.JobId, one.Outcome.JobType);
            }
        }

        return (released, cancelled);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Continuations: {Released} released (Pending, due now), {Cancelled} cancelled by a parent's end (sweep: {Swept})")]
    private static partial void LogTick(ILogger logger, int released, int cancelled, bool swept);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} ({JobType}): its parents finished; Pending, due now")]
    private static partial void LogReleased(ILogger logger, Guid jobId, string jobType);

    internal static void LogCancelled(ILogger logger, Guid jobId, string? reason) => LogCancelledCore(logger, jobId, JobLogText.Reason(reason));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: Cancelled before it ran: {Reason}")]
    private static partial void LogCancelledCore(ILogger logger, Guid jobId, string reason);
}
