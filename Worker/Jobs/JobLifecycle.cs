using JobWorker.Persistence;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// The job state machine: every decision about what a job becomes is made here, in code, as a <see cref="JobOutcome"/>;
/// <see cref="JobCompleter"/> applies it (one writer, <see cref="JobSql.ApplyOutcomes"/>), fenced by state, attempt and owner.
/// </summary>
/// <remarks>
/// <code>
///  (new, After) ──accept──▶ Awaiting ──Continue: parents Succeeded (or all ended, AfterAny)──▶ Pending (due now)
///                              │ ├────Continue: a parent Failed or Cancelled ─────────────────▶ Cancelled
///                              │ └────CancelJob (JobStore.RequestCancelAsync) ─────────────────▶ Cancelled
///  (new) ──accept──▶ Pending ──claim──▶ Running ──AfterRun: success──────────▶ Succeeded
///                      ▲  │                │ ├─AfterRun: failure, attempts left─▶ Pending (Retry, after the backoff)
///                      │  │                │ ├─AfterRun: failure, none left ────▶ Failed
///                      │  │                │ ├─AfterRun: cancelled ─────────────▶ Cancelled
///                      │  │                │ ├─Release: drain, lost lease ──────▶ Pending (attempt given back)
///                      │  │                │ └─Recover: lease lapsed ───────────▶ Pending (Retry) or Failed
///                      │  ├─SetAside: cannot be claimed or sent ────────────────▶ Failed
///                      │  ├─Reject: can never run ──────────────────────────────▶ Failed
///                      │  └─CancelJob (JobStore.RequestCancelAsync) ────────────▶ Cancelled
///                      └──────────Requeue: an operator's retry ◀──────────────── Failed
/// </code>
/// A job the client's transactional enqueue wrote (Pending or Awaiting, <c>unchecked</c>) is never sent or claimed before
/// <see cref="EnqueuedJobAcceptor"/> has checked it: it then goes on as an accepted one does, or RejectEnqueued → Failed.
/// A cancel requested while a job runs wins over any outcome of that run but success (applied by the writer). An Awaiting
/// job is never claimed or sent: <see cref="ContinuationReleaser"/> finds the ones whose parents finished and hands each to
/// <see cref="Continue"/>; the write is fenced by state Awaiting, so however many replicas decide it, it applies once.
/// <para>
/// Where does Running become Succeeded? <see cref="JobProcessor"/> runs the handler in a slot and hands how it ended to
/// <see cref="AfterRun"/>, which decides <see cref="JobOutcomeKind.Succeeded"/>; <see cref="JobCompleter.ApplyAsync"/>
/// writes it, fenced by state, attempt and owner, with its JobSucceeded event (<see cref="JobSql.ApplyOutcomes"/>). Every
/// other arrow above takes the same path: a decision here, one writer there.
/// </para>
/// </remarks>
internal sealed class JobLifecycle(IOptions<RetryOptions> retries)
{
    /// <summary>How a claimed run ended → the job's outcome: a failure is retried after the backoff while attempts are left.</summary>
    public JobOutcome AfterRun(Job claimed, AttemptResult result) => result.End switch
    {
        AttemptEnd.Succeeded => Of(claimed, JobOutcomeKind.Succeeded) with { ResultJson = result.Result?.GetRawText() },
        AttemptEnd.Cancelled => Of(claimed, JobOutcomeKind.Cancelled) with { Error = result.Error ?? "Cancelled on request." },
        AttemptEnd.Interrupted => Release(claimed, result.Error ?? "interrupted"),
        _ => AfterFailure(Of(claimed, JobOutcomeKind.Failed), claimed.Attempt, claimed.MaxAttempts, result.Error ?? "Unknown error.", result.Retryable),
    };

    /// <summary>
    /// The run was given back before it finished (the worker is stopping, lost the lease, or the claim's delivery was
    /// cancelled): Pending, due now, and the attempt does not count against the job's budget.
    /// </summary>
    public JobOutcome Release(Job claimed, string why) =>
        Of(claimed, JobOutcomeKind.Released) with { Error = why, MaxAttempts = claimed.MaxAttempts + 1 };

    /// <summary>
    /// A Running job whose lease lapsed (its worker died, or lost the database for a whole lease): the attempt counts, and
    /// the job is retried after the same backoff as a failed run, or Failed when no attempt is left.
    /// </summary>
    public JobOutcome Recover(LapsedJob lapsed, TimeSpan lease)
    {
        var owner = lapsed.Owner ?? "?";
        var outcome = new JobOutcome
        {
            JobId = lapsed.Id,
            Kind = JobOutcomeKind.Failed,
            From = JobState.Running,
            Attempt = lapsed.Attempt,
            Owner = lapsed.Owner,
            OnlyIfLeaseLapsed = true,
            JobType = lapsed.Type,
        };
        return lapsed.Attempt < lapsed.MaxAttempts
            ? AfterFailure(outcome, lapsed.Attempt, lapsed.MaxAttempts,
                $"Worker {owner} stopped during attempt {lapsed.Attempt} (no lease renewal for {lease}); the job runs again.", retryable: true)
            : outcome with { Error = $"Gave up after {lapsed.Attempt} of {lapsed.MaxAttempts} attempts: worker {owner} stopped during the last one (no lease renewal for {lease})." };
    }

    /// <summary>
    /// A continuation whose parents may decide it: Cancelled, naming the parent, when one ended Failed or Cancelled and only
    /// success will do; Pending, due now, once every parent has finished (all Succeeded, or any outcome with AfterAny);
    /// null while a parent has not finished or arrived.
    /// </summary>
    public static JobOutcome? Continue(AwaitingJob waiting)
    {
        var outcome = new JobOutcome
        {
            JobId = waiting.Id,
            Kind = JobOutcomeKind.Continued,
            From = JobState.Awaiting,
            Attempt = 0,
            JobType = waiting.Type,
        };
        if (!waiting.AfterAny && waiting.EndedParent is { } parent)
        {
            return outcome with { Kind = JobOutcomeKind.Cancelled, Error = $"Parent job {parent} ended {waiting.EndedParentState}.", EndedParent = parent };
        }

        return waiting.Unfinished == 0 ? outcome : null;
    }

    /// <summary>An operator's retry: Failed → Pending, due now, with <paramref name="extraAttempts"/> more attempts.</summary>
    public static JobOutcome Requeue(JobLocation failed, int extraAttempts) => new()
    {
        JobId = failed.Id,
        Kind = JobOutcomeKind.Requeued,
        From = JobState.Failed,
        Attempt = failed.Attempt,
        MaxAttempts = failed.Attempt + extraAttempts,
        JobType = failed.Type,
    };

    /// <summary>
    /// A Pending job that cannot be claimed or sent for a reason of its own (its row cannot be read, its message cannot be
    /// built): Failed with the reason, so it never holds up the jobs due beside it.
    /// </summary>
    public static JobOutcome SetAside(JobLocation pending, string reason) => new()
    {
        JobId = pending.Id,
        Kind = JobOutcomeKind.Failed,
        From = JobState.Pending,
        Attempt = pending.Attempt,
        Error = reason,
        JobType = pending.Type,
    };

    /// <summary>A submission that can never run (unknown type, bad input), just stored as Pending at attempt 0: Failed.</summary>
    public static JobOutcome Reject(Guid jobId, string jobType, string reason) => new()
    {
        JobId = jobId,
        Kind = JobOutcomeKind.Failed,
        From = JobState.Pending,
        Attempt = 0,
        Error = reason,
        JobType = jobType,
    };

    /// <summary>
    /// A job the client's transactional enqueue wrote (Pending at attempt 0, or Awaiting <paramref name="from"/>) that fails
    /// the accept checks: Failed, as a rejected submission is, only while it is still unchecked, so a replica that checked
    /// it first keeps its decision.
    /// </summary>
    public static JobOutcome RejectEnqueued(Guid jobId, string jobType, string reason, JobState from) =>
        Reject(jobId, jobType, reason) with { From = from, OnlyIfUnchecked = true };

    /// <summary>
    /// An outcome the database refused to store (a result jsonb cannot hold, for one): the run ends Failed with the reason
    /// and no result, so the job still gets a terminal state and the rest of its batch is written.
    /// </summary>
    public static JobOutcome Unwritable(JobOutcome refused, string reason) => refused with
    {
        Kind = JobOutcomeKind.Failed,
        ResultJson = null,
        MaxAttempts = null,
        Error = $"The outcome ({refused.Kind}) could not be stored: {reason}",
    };

    private JobOutcome AfterFailure(JobOutcome failed, int attempt, int maxAttempts, string error, bool retryable) =>
        retryable && attempt < maxAttempts
            ? failed with { Kind = JobOutcomeKind.Retry, Error = error, RetryAfter = RetryBackoff.After(attempt, retries.Value.BaseDelay, retries.Value.MaxDelay) }
            : failed with { Kind = JobOutcomeKind.Failed, Error = error };

    private static JobOutcome Of(Job claimed, JobOutcomeKind kind) => new()
    {
        JobId = claimed.Id,
        Kind = kind,
        From = JobState.Running,
        Attempt = claimed.Attempt,
        Owner = claimed.Owner,
        JobType = claimed.Type,
    };
}
