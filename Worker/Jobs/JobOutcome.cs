using System.Text.Json;

namespace JobWorker.Jobs;

internal enum JobOutcomeKind
{
    Succeeded,
    Failed,

    /// <summary>The worker is stopping, or lost the job's lease: the attempt did not finish and the job goes back to Pending.</summary>
    Interrupted,

    /// <summary>A CancelJob stopped the handler; the job ends Cancelled.</summary>
    Cancelled,
}

/// <summary>How one run of a handler ended.</summary>
internal readonly record struct JobOutcome(JobOutcomeKind Kind, JsonElement? Result = null, string? Error = null, bool Retryable = false)
{
    public static JobOutcome Succeeded(JsonElement? result) => new(JobOutcomeKind.Succeeded, Result: result);

    public static JobOutcome Failed(string error, bool retryable) => new(JobOutcomeKind.Failed, Error: error, Retryable: retryable);

    public static JobOutcome Interrupted(string why) => new(JobOutcomeKind.Interrupted, Error: why);

    public static JobOutcome Cancelled(string reason) => new(JobOutcomeKind.Cancelled, Error: reason);
}
