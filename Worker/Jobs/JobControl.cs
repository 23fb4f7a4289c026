using JobWorker.Persistence;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// What an operator does to jobs, for the CLI's <c>jobs retry|cancel</c> and the dashboard's buttons alike: the same
/// store transitions the workers use, and the same CancelJob message other services send. Each returns what happened,
/// in words a page or a terminal can show. Without a broker (a tool that only talks to the database) a cancel is
/// recorded all the same, and the job's owner stops it at its next lease renewal.
/// </summary>
internal sealed class JobControl(JobStore store, JobCompleter completer, IOptions<JobOptions> jobs, IJobBroker? broker = null)
{
    /// <summary>Failed → Pending with <paramref name="extraAttempts"/> more attempts; the workers' dispatchers send it within a tick.</summary>
    public async Task<JobActionOutcome> RetryAsync(Guid id, int extraAttempts, CancellationToken cancellationToken)
    {
        var requeued = await RequeueAsync(id, JobFilter.All, extraAttempts, cancellationToken);
        return requeued == 1
            ? new(true, $"Job {id} is Pending again with {extraAttempts} more attempt(s); a worker runs it within a dispatcher tick.")
            : new(false, $"Job {id} is not Failed (or does not exist): nothing to retry.");
    }

    /// <summary>Every Failed job <paramref name="filter"/> matches → Pending, each with <paramref name="extraAttempts"/> more attempts.</summary>
    public async Task<JobActionOutcome> RetryMatchingAsync(JobFilter filter, int extraAttempts, CancellationToken cancellationToken)
    {
        var requeued = await RequeueAsync(null, filter, extraAttempts, cancellationToken);
        return new(requeued > 0, requeued == 0
            ? "No Failed job matches the filter: nothing to retry."
            : $"{requeued} failed job(s) are Pending again with {extraAttempts} more attempt(s); the workers run them within a dispatcher tick.");
    }

    /// <summary>
    /// The operator's retry is an outcome like any other: decided by the lifecycle, written (with its event) by the one
    /// writer, a page of matching jobs at a time. A requeued job is no longer Failed, so each page finds the next ones.
    /// </summary>
    private async Task<int> RequeueAsync(Guid? id, JobFilter filter, int extraAttempts, CancellationToken cancellationToken)
    {
        const int Page = 1_000;
        var requeued = 0;
        List<JobLocation> failed;
        do
        {
            failed = await store.FailedMatchingAsync(id, filter, Page, cancellationToken);
            var applied = await Task.WhenAll(failed.Select(job => completer.ApplyAsync(JobLifecycle.Requeue(job, extraAttempts), cancellationToken)));
            var written = applied.Count(a => a is not null);
            requeued += written;
            if (written == 0)
            {
                break; // every one of them moved on meanwhile; what is left is another writer's
            }
        }
        while (failed.Count == Page);

        return requeued;
    }

    /// <summary>
    /// Records the cancel in the ledger, as a CancelJob's consumer does (a Pending or scheduled job is Cancelled now; a
    /// Running one is stopped by its owner), then publishes the CancelJob so the owner stops the handler at once rather
    /// than at its next lease renewal. If the publish fails, the renewal still stops it.
    /// </summary>
    public async Task<JobActionOutcome> CancelAsync(Guid id, string reason, CancellationToken cancellationToken)
    {
        var existing = await store.FindAsync(id, cancellationToken);
        if (existing is null)
        {
            return new(false, $"No job with id {id}.");
        }

        var state = await store.RequestCancelAsync(id, reason, jobs.Value.QueueName, cancellationToken);
        if (state != JobState.Running)
        {
            return state == JobState.Cancelled
                ? new(true, $"Job {id} is Cancelled: {reason}")
                : new(false, $"Job {id} has already finished: nothing to cancel.");
        }

        if (broker is null)
        {
            return new(true, $"Cancel recorded for running job {id}; its worker stops it at the next lease renewal.");
        }

        try
        {
            await broker.PublishCancelAsync(id, reason, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new(true, $"Cancel recorded for running job {id}; its worker stops it at the next lease renewal (the notice could not be sent: {e.Message}).");
        }

        return new(true, $"Cancel recorded for running job {id}; its worker is stopping it.");
    }
}

/// <summary>What an operator's action did: whether it changed anything, and what to tell the operator.</summary>
internal sealed record JobActionOutcome(bool Applied, string Message);
