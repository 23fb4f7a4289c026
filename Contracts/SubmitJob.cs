using System.Text.Json;

namespace JobWorker.Contracts;

/// <summary>
/// Asks JobWorker to run one job. Send it to the deployment's queue, <c>queue:&lt;queue&gt;</c>. Sending it twice with the
/// same <see cref="JobId"/> runs the job at most once.
/// </summary>
public sealed record SubmitJob
{
    /// <summary>Chosen by the publisher; the idempotency key of the job.</summary>
    public Guid JobId { get; init; }

    /// <summary>Selects the handler, e.g. <c>delay</c> or <c>noop</c>.</summary>
    public string JobType { get; init; } = "";

    /// <summary>Handler input, any JSON value; JSON null when absent. Stored as jsonb.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>Attempts before the job is Failed for good; the worker's default when absent.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Per-attempt time limit; the worker's default when absent.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// Run the job no earlier than this time (UTC). It is accepted as Pending at once, and a worker runs it when it is
    /// due. Give this or <see cref="Delay"/>, not both; neither runs it at once.
    /// </summary>
    public DateTime? RunAt { get; init; }

    /// <summary>Run the job no earlier than this long after it is accepted.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>
    /// Parent jobs this one waits for (a continuation; JSON <c>"after": [...]</c>): the job is accepted as Awaiting and held
    /// until every parent has Succeeded, then runs; if a parent ends Failed or Cancelled, this job ends Cancelled with a
    /// reason naming it (unless <see cref="AfterAny"/>). A parent not yet submitted holds the job until it arrives and
    /// ends. Parents are looked up by id, in any queue. At most 1000; not with <see cref="RunAt"/> or <see cref="Delay"/>.
    /// </summary>
    public IReadOnlyList<Guid>? After { get; init; }

    /// <summary>With <see cref="After"/>: run once every parent has finished, however each ended (Succeeded, Failed or Cancelled).</summary>
    public bool AfterAny { get; init; }

    /// <summary>Ties the job to the publisher's own workflow; copied onto every event of the job.</summary>
    public Guid? CorrelationId { get; init; }

    /// <summary>
    /// 0 (the default) to 9; higher runs first, as in RabbitMQ. The worker's dispatcher and its slots order by it; a publisher
    /// that sends to the jobs queue itself should also set the message's AMQP priority to the same value, since RabbitMQ
    /// orders a priority queue by that header and never reads the body.
    /// </summary>
    public int Priority { get; init; }

    /// <summary>
    /// Groups runs of this job's type for <c>Limits:&lt;type&gt;:PerKeyConcurrency</c> (JSON <c>"concurrencyKey"</c>), e.g. a
    /// tenant: at most that many jobs of the type with the same key run at once across every replica. At most 200 characters.
    /// Stored and shown on a type with no per-key limit, where it limits nothing.
    /// </summary>
    public string? ConcurrencyKey { get; init; }
}
