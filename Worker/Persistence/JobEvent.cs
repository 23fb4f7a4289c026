namespace JobWorker.Persistence;

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
