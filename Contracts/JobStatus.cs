using System.Text.Json;

namespace JobWorker.Contracts;

/// <summary>A job's state as recorded in the job store, in answer to <see cref="GetJobStatus"/>.</summary>
public sealed record JobStatus
{
    public Guid JobId { get; init; }

    /// <summary>False when the worker has never seen the job; the other fields are then empty.</summary>
    public bool Found { get; init; }

    /// <summary>Pending, Running, Succeeded, Failed or Cancelled.</summary>
    public string State { get; init; } = "";

    public string JobType { get; init; } = "";
    public int Attempt { get; init; }
    public int MaxAttempts { get; init; }
    public string? Owner { get; init; }
    public string? Error { get; init; }
    public JsonElement? Result { get; init; }
    public DateTime? CreatedAt { get; init; }

    /// <summary>While Pending: when the job is due (scheduled, or waiting out a retry's backoff).</summary>
    public DateTime? RunAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public DateTime? UpdatedAt { get; init; }
}
