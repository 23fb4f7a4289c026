using JobWorker.Persistence;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// The accept step for jobs the client's transactional enqueue wrote (<c>unchecked</c> rows), which no SubmitJob brought
/// to a worker: the dispatcher runs it at the start of each tick, so such a job gets the checks a SubmitJob gets
/// (<see cref="AcceptChecks"/>) within a tick of its commit, its type judged by this replica's handlers as a SubmitJob's is
/// by the replica that receives it. One that fails them ends Failed with the reason, as a rejected submission does (same
/// outcome, event and telemetry); one that passes is sent when due, and a continuation whose parents had all finished is
/// decided at once. Leaderless: a batch is one statement, and every write is fenced, so replicas that read the same row
/// decide it once: the first write wins, and one that finds the row decided
/// already changes nothing.
/// </summary>
internal sealed partial class EnqueuedJobAcceptor(
    JobStore store, JobCompleter completer, JobHandlerCatalog handlers, IOptions<SubmissionOptions> submissions,
    IOptions<DispatchOptions> dispatch, IOptions<JobOptions> jobs, ILogger<EnqueuedJobAcceptor> logger)
{
    /// <summary>Full batches one tick checks at most: a burst of enqueues spreads over ticks instead of holding up the sends.</summary>
    private const int MaxBatchesPerTick = 10;

    /// <summary>
    /// Where the last tick stopped, in (created_at, id) order; null once a page came back short. Rows a tick leaves
    /// unchecked (a rejection the database would not write) are passed over until the pages come round again, so however
    /// many there are, they never keep the rows behind them from being checked.
    /// </summary>
    private (DateTime CreatedAt, Guid Id)? resumeAfter;

    /// <summary>Checks this queue's unchecked jobs; returns how many this replica decided.</summary>
    public async Task<int> AcceptAsync(CancellationToken cancellationToken)
    {
        var batchSize = dispatch.Value.BatchSize;
        var decided = 0;
        for (var batch = 0; batch < MaxBatchesPerTick; batch++)
        {
            // Paged on (created_at, id) from where the last tick stopped: a row left unchecked is not read again by the
            // next page, and the next tick goes on past it.
            var from = resumeAfter;
            var rows = await store.TakeUncheckedAsync(jobs.Value.QueueName, batchSize, from, cancellationToken);
            if (rows.Count > 0)
            {
                decided += await DecideAsync(rows, cancellationToken);
            }

            // Moved on only once the page is decided: a page cut short by an error is read again at the next tick.
            resumeAfter = rows.Count < batchSize ? null : (rows[^1].CreatedAt, rows[^1].Id);
            if (resumeAfter is null && from is null)
            {
                break;
            }

            // Short after a resume: the end is reached, and the pages start again from the oldest, in this tick if it has room.
        }

        return decided;
    }

    private async Task<int> DecideAsync(List<UncheckedJob> rows, CancellationToken cancellationToken)
    {
        var checkedIds = new List<Guid>(rows.Count);
        var rejections = new List<(UncheckedJob Row, string Problem, Task<AppliedOutcome?> Write)>();
        foreach (var row in rows)
        {
            if (!(row is { State: nameof(JobState.Pending), Attempt: 0 } or { State: nameof(JobState.Awaiting) }))
            {
                // Further along already (cancelled before its check; no claim takes an unchecked row): there is nothing
                // left to check, and it leaves the unchecked rows' index.
                checkedIds.Add(row.Id);
                continue;
            }

            // Judged against the time of the enqueue, as a SubmitJob is against the time it arrives.
            var problem = row.Job is { } job
                ? AcceptChecks.Problem(job, submissions.Value, handlers, row.CreatedAt)
                : $"The job's row could not be read: {row.Unreadable}";
            if (problem is null)
            {
                checkedIds.Add(row.Id);
            }
            else
            {
                var outcome = JobLifecycle.RejectEnqueued(row.Id, row.Type, problem, Enum.Parse<JobState>(row.State));
                rejections.Add((row, problem, completer.ApplyAsync(outcome, cancellationToken)));
            }
        }

        var rejected = 0;
        foreach (var (row, problem, write) in rejections)
        {
            try
            {
                if (await write is not null)
                {
                    // The write cleared the flag: this replica decided the row, and counts it as a worker counts a
                    // rejected submission it stored.
                    LogRejected(logger, row.Id, row.Type, problem);
                    JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(row.Type));
                    rejected++;
                }

                // Not applied: the row moved on since it was read (released by its parents, cancelled), or another
                // replica decided it first. Left as it is; one still unchecked is looked at again at the next tick.
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // One row the database will not fail does not hold up the others; it stays unchecked, so it is never sent.
                LogRejectNotWritten(logger, row.Id, problem, DatabaseErrors.Describe(e));
            }
        }

        if (checkedIds.Count == 0)
        {
            LogCheckedIf(rejected, rejected, 0);
            return rejected;
        }

        var marked = await store.MarkCheckedAsync([.. checkedIds], cancellationToken);
        foreach (var (_, held) in marked)
        {
            // Counted once, by the replica that marked it: the worker's accepts count each job they store.
            JobWorkerTelemetry.JobsAccepted.Add(1, JobWorkerTelemetry.JobType(held.Type));
        }

        // A continuation whose parents had all finished before it was checked: no parent finishes any more to wake the
        // releaser, so it is decided here, as the accept of a SubmitJob with After does, through the same fenced writer.
        var continued = marked.Where(m => m.State == JobState.Awaiting).Select(m => JobLifecycle.Continue(m.Job)).OfType<JobOutcome>().ToList();
        await Task.WhenAll(continued.Select(outcome => completer.ApplyAsync(outcome, cancellationToken)));

        LogCheckedIf(marked.Count + rejected, rejected, continued.Count);
        return marked.Count + rejected;
    }

    private void LogCheckedIf(int count, int rejected, int continued)
    {
        if (count > 0)
        {
            LogChecked(logger, count, rejected, continued);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} ({JobType}), enqueued in a transaction, rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, Guid jobId, string jobType, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}, enqueued in a transaction, fails the accept checks ({Problem}), but could not be written Failed ({Reason}); it stays unsent and is checked again at the next tick")]
    private static partial void LogRejectNotWritten(ILogger logger, Guid jobId, string problem, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checked {Count} jobs enqueued in a transaction: {Rejected} rejected, {Continued} continuations decided at once")]
    private static partial void LogChecked(ILogger logger, int count, int rejected, int continued);
}
