namespace JobWorker.Jobs;

/// <summary>
/// What the accept transition writes: a submission with the worker's defaults applied. The job is due at
/// <see cref="RunAt"/>, or <see cref="Delay"/> after it is accepted, or at once when neither is given. <see cref="Queue"/>
/// is the queue it came from, which its later dispatches go to.
/// </summary>
internal sealed record NewJob(
    Guid Id, string Type, string PayloadJson, int MaxAttempts, TimeSpan? Timeout, Guid? CorrelationId,
    DateTime? RunAt = null, TimeSpan? Delay = null, string Queue = "");
