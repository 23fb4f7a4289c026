using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Writes the progress handlers report (<see cref="JobRun.ReportProgressAsync"/>): every <c>Jobs:ProgressInterval</c>,
/// the latest unwritten report of each job running here, all in one short statement, each row fenced by its attempt and
/// owner; so a handler reporting a thousand times a second costs its job one write per interval, and no connection is
/// held while it runs. <see cref="FlushAsync"/> writes a job's last report before its outcome, so it is not lost.
/// </summary>
internal sealed partial class ProgressWriter(JobStore store, JobSlots slots, IOptions<JobOptions> options, ILogger<ProgressWriter> logger)
    : MaintenanceService(logger)
{
    // One write at a time, so a flush never races a tick and lands an older report over a newer one.
    private readonly SemaphoreSlim _writing = new(1, 1);

    public override string Name => "progress";

    /// <summary>Progress is for people to read: a failing write never makes the replica unready.</summary>
    public override bool Critical => false;

    public override TimeSpan Interval => options.Value.ProgressInterval;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => WriteAsync(slots.Running, cancellationToken);

    /// <summary>Writes <paramref name="job"/>'s last report now, if it has one not yet written.</summary>
    public Task FlushAsync(RunningJob job, CancellationToken cancellationToken) => WriteAsync([job], cancellationToken);

    private async Task WriteAsync(IReadOnlyCollection<RunningJob> running, CancellationToken cancellationToken)
    {
        if (!running.Any(j => j.UnwrittenProgress() is not null))
        {
            return;
        }

        await _writing.WaitAsync(cancellationToken);
        try
        {
            var batch = running.Select(j => (Job: j, Report: j.UnwrittenProgress())).Where(r => r.Report is not null)
                .Select(r => (r.Job, r.Report!.Value.Progress, r.Report.Value.Version)).ToList();
            // One statement per owner name; a replica has one, so this is one statement.
            foreach (var owner in batch.GroupBy(r => r.Job.Claimed.Owner!))
            {
                var written = (await store.WriteProgressAsync(owner.Key, [.. owner.Select(r => (r.Job.JobId, r.Job.Claimed.Attempt, r.Progress))], cancellationToken))
                    .ToHashSet();
                foreach (var (job, _, version) in owner)
                {
                    // A report the fence refused never will be written: it is dropped, not tried again.
                    job.MarkProgressWritten(version);
                    if (!written.Contains((job.JobId, job.Claimed.Attempt)))
                    {
                        LogFencedOut(logger, job.JobId, job.Claimed.Attempt);
                    }
                }
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} attempt {Attempt}: progress not written, the attempt no longer runs here (its lease lapsed, or it ended)")]
    private static partial void LogFencedOut(ILogger logger, Guid jobId, int attempt);
}
