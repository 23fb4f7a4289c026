using System.Text.Json;

namespace JobWorker.Jobs;

public enum JobOutcomeKind
{
    Succeeded,
    Failed,

    /// <summary>The worker is stopping; the attempt did not finish and the job goes back to the queue.</summary>
    Interrupted,

    /// <summary>A CancelJob stopped the handler; the job ends Cancelled.</summary>
    Cancelled,
}

/// <summary>How one run of a handler ended.</summary>
public readonly record struct JobOutcome(JobOutcomeKind Kind, JsonElement? Result = null, string? Error = null, bool Retryable = false)
{
    public static JobOutcome Succeeded(JsonElement? result) => new(JobOutcomeKind.Succeeded, Result: result);

    public static JobOutcome Failed(string error, bool retryable) => new(JobOutcomeKind.Failed, Error: error, Retryable: retryable);

    public static JobOutcome Interrupted => new(JobOutcomeKind.Interrupted);

    public static JobOutcome Cancelled => new(JobOutcomeKind.Cancelled);
}
