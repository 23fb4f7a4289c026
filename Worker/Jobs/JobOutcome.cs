using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>What an outcome does to its job; the state it writes follows from it.</summary>
internal enum JobOutcomeKind
{
    /// <summary>Running → Succeeded, with the handler's result.</summary>
    Succeeded,

    /// <summary>Running → Pending, due after <see cref="JobOutcome.RetryAfter"/>, for the next attempt; the error is kept.</summary>
    Retry,

    /// <summary>→ Failed for good, with the reason: from Running (no attempt left, or not worth retrying) or from Pending (set aside, rejected).</summary>
    Failed,

    /// <summary>Running → Cancelled: a CancelJob stopped the handler; or Awaiting → Cancelled: a parent of a continuation ended Failed or Cancelled.</summary>
    Cancelled,

    /// <summary>Running → Pending, due now, without using the attempt: the worker is stopping, lost the lease, or could not start the run.</summary>
    Released,

    /// <summary>Failed → Pending, due now, with more attempts: an operator's retry.</summary>
    Requeued,

    /// <summary>Awaiting → Pending, due now: a continuation whose parents finished as its policy asks.</summary>
    Continued,
}

/// <summary>
/// How one step of a job's life ends, decided in code by <see cref="JobLifecycle"/> and applied by <see cref="JobCompleter"/>,
/// the one writer. The fence (<see cref="From"/>, <see cref="Attempt"/>, <see cref="Owner"/>, and for recovery a lapsed
/// lease) makes the write a no-op when the row has moved on since the decision.
/// </summary>
/// <remarks>
/// One rule is the database's, because only the row knows it at write time: a cancel requested while the job ran wins over
/// every outcome of that run but success, so a Retry, Failed or Released run whose job has a cancel request ends Cancelled.
/// </remarks>
internal sealed record JobOutcome
{
    public required Guid JobId { get; init; }
    public required JobOutcomeKind Kind { get; init; }

    /// <summary>The state the row must be in for the outcome to apply.</summary>
    public required JobState From { get; init; }

    /// <summary>The attempt the row must be at.</summary>
    public required int Attempt { get; init; }

    /// <summary>The owner the row must have; null for outcomes that are not a run's (operator retry, set aside).</summary>
    public string? Owner { get; init; }

    /// <summary>Recovery's outcomes apply only while the lease is still lapsed: an owner that renewed in between keeps its job.</summary>
    public bool OnlyIfLeaseLapsed { get; init; }

    /// <summary>
    /// The rejection of a row the client's transactional enqueue wrote applies only while no worker has checked it yet, and
    /// clears the flag in the same write: of two replicas that decide the row, the first to write wins.
    /// </summary>
    public bool OnlyIfUnchecked { get; init; }

    /// <summary>For <see cref="JobOutcomeKind.Retry"/>: how long until the next attempt is due.</summary>
    public TimeSpan RetryAfter { get; init; }

    /// <summary>The job's attempt budget after this outcome, when it changes (a release gives one back, a requeue adds).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>For Retry, Failed, Cancelled: the reason, stored as the job's error and sent in the event.</summary>
    public string? Error { get; init; }

    /// <summary>For Succeeded: the handler's result as JSON text, or null for none.</summary>
    public string? ResultJson { get; init; }

    /// <summary>The job's type, for telemetry and logs.</summary>
    public string JobType { get; init; } = "";

    /// <summary>
    /// For a continuation cancelled by a parent's end: that parent, whose state the write checks again (still Failed or
    /// Cancelled), so an operator's retry of it between the releaser's read and the write leaves the child held.
    /// </summary>
    public Guid? EndedParent { get; init; }

    /// <summary>The state the outcome writes, unless a requested cancel overrides it (see the remarks).</summary>
    public JobState To => Kind switch
    {
        JobOutcomeKind.Succeeded => JobState.Succeeded,
        JobOutcomeKind.Failed => JobState.Failed,
        JobOutcomeKind.Cancelled => JobState.Cancelled,
        _ => JobState.Pending,
    };

    /// <summary>The ledger event it records (<c>job_events.kind</c>).</summary>
    public JobEventKind Event => Kind switch
    {
        JobOutcomeKind.Succeeded => JobEventKind.Succeeded,
        JobOutcomeKind.Retry => JobEventKind.Retrying,
        JobOutcomeKind.Failed => JobEventKind.Failed,
        JobOutcomeKind.Cancelled => JobEventKind.Cancelled,
        JobOutcomeKind.Released => JobEventKind.Released,
        JobOutcomeKind.Continued => JobEventKind.Continued,
        _ => JobEventKind.Requeued,
    };

    public override string ToString() => $"{Kind} of job {JobId} (attempt {Attempt})";
}
