using System.Text.Json;

namespace JobWorker.Jobs;

/// <summary>How one run of a handler ended, as <see cref="JobRunner"/> saw it; <see cref="JobLifecycle"/> turns it into an outcome.</summary>
internal readonly record struct AttemptResult(AttemptEnd End, JsonElement? Result = null, string? Error = null, bool Retryable = false)
{
    public static AttemptResult Succeeded(JsonElement? result) => new(AttemptEnd.Succeeded, Result: result);

    public static AttemptResult Failed(string error, bool retryable) => new(AttemptEnd.Failed, Error: error, Retryable: retryable);

    /// <summary>The worker is stopping, or lost the job's lease: the attempt did not finish.</summary>
    public static AttemptResult Interrupted(string why) => new(AttemptEnd.Interrupted, Error: why);

    /// <summary>A CancelJob stopped the handler.</summary>
    public static AttemptResult Cancelled(string reason) => new(AttemptEnd.Cancelled, Error: reason);
}

internal enum AttemptEnd
{
    Succeeded,
    Failed,
    Interrupted,
    Cancelled,
}
