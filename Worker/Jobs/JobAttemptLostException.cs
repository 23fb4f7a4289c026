namespace JobWorker.Jobs;

/// <summary>
/// A write of the running attempt (a checkpoint) found the job no longer this attempt's: its lease lapsed and the job
/// was taken back, or it was cancelled or ended. The handler should stop; nothing it writes for this attempt is kept.
/// </summary>
public sealed class JobAttemptLostException(Guid jobId, int attempt)
    : Exception($"Job {jobId} attempt {attempt} is no longer running in this worker (its lease lapsed, or it was cancelled or ended); the write was refused.")
{
    /// <summary>The job whose write was refused.</summary>
    public Guid JobId { get; } = jobId;

    /// <summary>The attempt that no longer owns it.</summary>
    public int Attempt { get; } = attempt;
}
