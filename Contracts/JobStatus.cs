using System.Text.Json;

namespace JobWorker.Contracts;

/// <summary>A job's state as recorded in the job store, in answer to <see cref="GetJobStatus"/>.</summary>
public sealed record JobStatus
{
    /// <summary>The job asked about.</summary>
    public Guid JobId { get; init; }

    /// <summary>False when the worker has never seen the job; the other fields are then empty.</summary>
    public bool Found { get; init; }

    /// <summary>Awaiting (a continuation held for its parents), Pending, Running, Succeeded, Failed or Cancelled.</summary>
    public string State { get; init; } = "";

    /// <summary>The job's type.</summary>
    public string JobType { get; init; } = "";
    /// <summary>Attempts started so far.</summary>
    public int Attempt { get; init; }
    /// <summary>Attempts the job has in all.</summary>
    public int MaxAttempts { get; init; }
    /// <summary>While Running: the replica that holds its lease.</summary>
    public string? Owner { get; init; }
    /// <summary>The last attempt's error, if it failed.</summary>
    public string? Error { get; init; }
    /// <summary>When Succeeded: the handler's result (null for none).</summary>
    public JsonElement? Result { get; init; }
    /// <summary>When the job was accepted (UTC).</summary>
    public DateTime? CreatedAt { get; init; }

    /// <summary>While Pending: when the job is due (scheduled, or waiting out a retry's backoff); null in any other state.</summary>
    public DateTime? RunAt { get; init; }

    /// <summary>While Awaiting: the parent jobs (<see cref="SubmitJob.After"/>) that have not finished yet, or not arrived.</summary>
    public IReadOnlyList<Guid>? WaitingFor { get; init; }
    /// <summary>When the current or last attempt started (UTC).</summary>
    public DateTime? StartedAt { get; init; }
    /// <summary>When the job reached its terminal state (UTC).</summary>
    public DateTime? FinishedAt { get; init; }
    /// <summary>The job's last transition (UTC).</summary>
    public DateTime? UpdatedAt { get; init; }

    /// <summary>The handler's last progress report: work done so far (null when it made none). Kept after the attempt ends.</summary>
    public long? ProgressCompleted { get; init; }
    /// <summary>The work in all, when the handler said.</summary>
    public long? ProgressTotal { get; init; }
    /// <summary>Completed as a share of total, 0 to 100; null without a total.</summary>
    public double? ProgressPercent { get; init; }
    /// <summary>What the handler said it was doing.</summary>
    public string? ProgressMessage { get; init; }
    /// <summary>When the last report was written (UTC); a running handler's is written about once a second.</summary>
    public DateTime? ProgressUpdatedAt { get; init; }
    /// <summary>The job's priority, 0 to 9 (<see cref="SubmitJob.Priority"/>).</summary>
    public int Priority { get; init; }
}
