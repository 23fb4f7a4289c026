namespace JobWorker.Persistence;

/// <summary>What a job event tells, by kind: the ledger records one per transition that has an event.</summary>
internal enum JobEventKind
{
    Started,
    Succeeded,

    /// <summary>Failed for good.</summary>
    Failed,

    Cancelled,

    /// <summary>An attempt failed and another follows after a backoff; published as JobFailed with WillRetry.</summary>
    Retrying,

    /// <summary>An attempt was given back unused (drain, lost lease, a claim not run): history only, not published.</summary>
    Released,

    /// <summary>An operator's retry of a Failed job: history only, not published; the next attempt publishes JobStarted.</summary>
    Requeued,
}

internal static class JobEventKinds
{
    /// <summary>Whether the broker hears of an event of this kind: a release and an operator's requeue are history only.</summary>
    public static bool IsPublished(this JobEventKind kind) => kind is not (JobEventKind.Released or JobEventKind.Requeued);
}

/// <summary>
/// One row of <c>job_events</c>: an event a transition recorded in the same statement. Until it is published it is in
/// the outbox; after, it stays as the job's history (its attempts, who ran them, when) until the job is purged.
/// (JobId, Kind, Attempt) is its identity, so each is recorded once however often a write is retried.
/// </summary>
internal sealed class JobEvent
{
    public Guid JobId { get; set; }
    public JobEventKind Kind { get; set; }
    public int Attempt { get; set; }

    /// <summary>For Retrying (and Failed rows written before that kind existed): another attempt follows.</summary>
    public bool WillRetry { get; set; }

    /// <summary>For Failed: the error; for Cancelled: the reason.</summary>
    public string? Error { get; set; }

    /// <summary>For Started: the worker that claimed the attempt.</summary>
    public string? WorkerId { get; set; }

    public DateTime OccurredAt { get; set; }

    /// <summary>Until then the writer publishes it itself; after it, any replica's relay may.</summary>
    public DateTime RelayAfter { get; set; }

    /// <summary>When the broker confirmed it; null while it is in the outbox.</summary>
    public DateTime? PublishedAt { get; set; }
}
