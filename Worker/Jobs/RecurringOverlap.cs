namespace JobWorker.Jobs;

/// <summary>Whether a recurring schedule's occurrence fires while the previous occurrence's job is still Pending or Running.</summary>
public enum RecurringOverlap
{
    /// <summary>The occurrence is skipped (and recorded as skipped): two runs of one schedule never overlap.</summary>
    Skip,

    /// <summary>The occurrence fires anyway.</summary>
    Allow,
}
