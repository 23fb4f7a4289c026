using System.Text.Json;

namespace JobWorker.Contracts;

/// <summary>
/// The job finished and its result is stored. Published at least once per job (the worker's outbox retries until the
/// broker confirms), so a subscriber that must act once keys on <see cref="JobId"/>.
/// </summary>
public sealed record JobSucceeded
{
    /// <summary>The job.</summary>
    public Guid JobId { get; init; }
    /// <summary>
    /// The deployment that ran the job: its worker's <c>Jobs:QueueName</c>. Each deployment publishes its events on
    /// exchanges of its own (<c>&lt;queue&gt;:JobWorker.Contracts:JobSucceeded</c>), so a subscriber bound to them sees one queue.
    /// </summary>
    public string Queue { get; init; } = "";
    /// <summary>The job's type.</summary>
    public string JobType { get; init; } = "";
    /// <summary>The attempt that succeeded, from 1.</summary>
    public int Attempt { get; init; }
    /// <summary>The handler's result; null when it returned none.</summary>
    public JsonElement? Result { get; init; }
    /// <summary>How long that attempt ran, from its claim to its success.</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>The publisher's workflow id, from <see cref="SubmitJob.CorrelationId"/>.</summary>
    public Guid? CorrelationId { get; init; }
}
