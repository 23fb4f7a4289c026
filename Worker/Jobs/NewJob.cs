namespace JobWorker.Jobs;

/// <summary>
/// What the accept transition writes: a submission with the worker's defaults applied. The job is due at
/// <see cref="RunAt"/>, or <see cref="Delay"/> after it is accepted, or at once when neither is given. <see cref="Queue"/>
/// is the queue it came from, which its later dispatches go to. A continuation (<see cref="After"/>, distinct parent ids)
/// is held Awaiting instead, until its parents finish (all Succeeded, or any outcome with <see cref="AfterAny"/>).
/// <see cref="Priority"/> (0 to 9, higher first) orders its dispatch and its wait for a slot.
/// <see cref="ConcurrencyKey"/> is what a per-key limit of its type counts runs by.
/// </summary>
internal sealed record NewJob(
    Guid Id, string Type, string PayloadJson, int MaxAttempts, TimeSpan? Timeout, Guid? CorrelationId,
    DateTime? RunAt = null, TimeSpan? Delay = null, string Queue = "", IReadOnlyList<Guid>? After = null, bool AfterAny = false,
    int Priority = 0, string? ConcurrencyKey = null)
{
    /// <summary>Whether the job waits for parent jobs.</summary>
    public bool IsContinuation => After is { Count: > 0 };
}
