using JobWorker.Persistence;
namespace JobWorker.Jobs;

/// <summary>
/// A recorded job event with what publishing it needs from its job. Built in memory by the writer that recorded it,
/// or read back from <c>job_events</c> by the relay's sweep; either way it publishes the same message.
/// </summary>
internal sealed class OutboxEvent
{
    public Guid JobId { get; set; }
    public string Kind { get; set; } = "";
    public int Attempt { get; set; }
    public string JobType { get; set; } = "";

    /// <summary>The queue of the deployment the job belongs to; events are published in its scope.</summary>
    public string Queue { get; set; } = "";
    public Guid? CorrelationId { get; set; }
    public bool WillRetry { get; set; }
    public string? Error { get; set; }
    public string? WorkerId { get; set; }
    public DateTime OccurredAt { get; set; }

    /// <summary>For Succeeded: the stored result (JSON text), null for none.</summary>
    public string? Result { get; set; }

    /// <summary>For Succeeded: when the attempt started, for the event's duration.</summary>
    public DateTime? StartedAt { get; set; }

    public JobEventKind EventKind => Enum.Parse<JobEventKind>(Kind);

    /// <summary>Whether the broker hears of it: history-only kinds (a release, an operator's requeue) are not published.</summary>
    public bool IsPublished => EventKind.IsPublished();

    /// <summary>Stable across re-publishes of the same event, so subscribers can drop the copies at-least-once delivery makes.</summary>
    public Guid MessageId => EventIds.For(JobId, Kind, Attempt);

    public override string ToString() => $"{Kind} of job {JobId} (attempt {Attempt})";

    internal static OutboxEvent For(Job job, JobEventKind kind, DateTime occurredAt) => new()
    {
        JobId = job.Id,
        Kind = kind.ToString(),
        Attempt = job.Attempt,
        JobType = job.Type,
        Queue = job.Queue,
        CorrelationId = job.CorrelationId,
        OccurredAt = occurredAt,
        StartedAt = job.StartedAt,
    };
}
