namespace JobWorker.Client;

/// <summary>
/// How one job is submitted: every field of <c>SubmitJob</c> but its type and payload. All optional; the worker's
/// defaults apply to what is left out. Checked by <see cref="IJobClient"/> before anything is sent or written.
/// </summary>
public sealed record JobSubmitOptions
{
    /// <summary>The job's id and idempotency key: submitting the same id twice runs the job at most once. A new id when absent.</summary>
    public Guid? JobId { get; init; }

    /// <summary>Attempts before the job is Failed for good, 1 to 100; the worker's default when absent.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Per-attempt time limit; the worker's default when absent.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Run the job no earlier than this time. Not with <see cref="Delay"/> or <see cref="After"/>.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>Run the job no earlier than this long after it is accepted (or, in a transaction, written). Not with <see cref="RunAt"/> or <see cref="After"/>.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Ties the job to the caller's own workflow; copied onto every event of the job.</summary>
    public Guid? CorrelationId { get; init; }

    /// <summary>0 (the default) to 9; higher runs first.</summary>
    public int Priority { get; init; }

    /// <summary>The key (e.g. a tenant) that <c>Limits:&lt;type&gt;:PerKeyConcurrency</c> counts runs by; at most 200 characters.</summary>
    public string? ConcurrencyKey { get; init; }

    /// <summary>Parent jobs this one waits for (a continuation): it runs once all have Succeeded. At most 1000.</summary>
    public IReadOnlyList<Guid>? After { get; init; }

    /// <summary>With <see cref="After"/>: run once every parent has finished, however it ended.</summary>
    public bool AfterAny { get; init; }
}
