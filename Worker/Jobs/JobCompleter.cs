using System.Collections.Concurrent;
using System.Diagnostics;
using JobWorker.Persistence;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// The one writer of outcomes: every <see cref="JobOutcome"/> (a run's end, a release, recovery's decision, a set-aside,
/// an operator's retry) is applied here, and nowhere else. Outcomes are written in batches, as River's completer and
/// Oban's async acks do: every outcome handed over while a write is in flight goes into the next one, so a busy replica
/// writes many per statement and an idle one writes each at once (no timer, no added latency). Each flush is one short
/// context and one statement (<see cref="JobStore.ApplyAsync"/>), fenced per job.
/// </summary>
/// <remarks>
/// A row the database refuses (a result jsonb cannot hold, a value too large) fails alone: the batch is written again row
/// by row, the refused outcome becomes Failed with the reason (<see cref="JobLifecycle.Unwritable"/>), and the rest are
/// written as decided. A caller waits for its own outcome's write, so a slot stays taken until its job's outcome is
/// recorded: a drain that waits for the slots waits for the writes too. The completer hands each published event to the
/// relay (when the host has one) and counts finished jobs.
/// </remarks>
internal sealed partial class JobCompleter(
    JobStore store, IOptions<JobOptions> options, IOptions<ResilienceOptions> resilience, ILogger<JobCompleter> logger, JobEventRelay? relay = null)
{
    /// <summary>At most this many outcomes per statement.</summary>
    public const int BatchLimit = 256;

    private readonly ConcurrentQueue<Completion> _queue = new();
    private int _flushing;

    /// <summary>
    /// Applies <paramref name="outcome"/>; returns what was written, or null when the row had moved on (its lease lapsed, it
    /// was cancelled, another replica got there first).
    /// </summary>
    /// <param name="cancellationToken">Bounds the wait (and the write it joins).</param>
    public Task<AppliedOutcome?> ApplyAsync(JobOutcome outcome, CancellationToken cancellationToken)
    {
        var completion = new Completion(outcome, Activity.Current?.Context ?? default, cancellationToken);
        _queue.Enqueue(completion);
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) == 0)
        {
            // The flusher writes for every caller, so it runs outside the first one's context (its span, its log scope);
            // each write's span links to the jobs it wrote.
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(FlushAsync);
            }
        }

        return completion.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task FlushAsync()
    {
        try
        {
            await FlushQueueAsync();
        }
        catch (Exception)
        {
            // WriteAsync answers its callers whatever happens; anything else must not leave the flag set, or no outcome
            // would be written again. The next ApplyAsync starts a flusher.
            Volatile.Write(ref _flushing, 0);
            throw;
        }
    }

    private async Task FlushQueueAsync()
    {
        var batch = new List<Completion>(BatchLimit);
        var jobs = new HashSet<Guid>();
        var later = new List<Completion>();
        while (true)
        {
            while (batch.Count < BatchLimit && _queue.TryDequeue(out var next))
            {
                if (next.CancellationToken.IsCancellationRequested)
                {
                    continue;
                }

                // One outcome per job per statement: a second one waits for the next.
                (jobs.Add(next.Outcome.JobId) ? batch : later).Add(next);
            }

            if (batch.Count > 0)
            {
                await WriteAsync(batch);
                batch.Clear();
                jobs.Clear();
                foreach (var waiting in later)
                {
                    _queue.Enqueue(waiting);
                }

                later.Clear();
                continue;
            }

            // Nothing left: stop flushing, unless an outcome arrived between the last look and now.
            Volatile.Write(ref _flushing, 0);
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task WriteAsync(List<Completion> batch)
    {
        // Bounded as a single outcome write is (a lease and the grace period); each caller stops waiting at its own bound.
        using var bound = new CancellationTokenSource(options.Value.LeaseDuration + resilience.Value.OutcomeGracePeriod);
        try
        {
            var applied = await WriteRowsAsync(batch, bound.Token);
            for (var i = 0; i < batch.Count; i++)
            {
                Publish(applied[i]);
                batch[i].Done.TrySetResult(applied[i]);
            }
        }
        catch (Exception e)
        {
            foreach (var completion in batch)
            {
                completion.Done.TrySetException(e);
            }
        }
    }

    /// <summary>The batch in one statement; when the database refuses a row of it, each row alone, the refused one as Failed.</summary>
    private async Task<AppliedOutcome?[]> WriteRowsAsync(List<Completion> batch, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ApplyAsync([.. batch.Select(c => c.Outcome)], cancellationToken, [.. batch.Select(c => c.Trace)]);
        }
        catch (Exception e) when (DatabaseErrors.IsRowFault(e))
        {
            if (batch.Count > 1)
            {
                LogBatchSplit(logger, batch.Count, DatabaseErrors.Describe(e));
            }
        }

        var applied = new AppliedOutcome?[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var outcome = batch[i].Outcome;
            try
            {
                applied[i] = (await store.ApplyAsync([outcome], cancellationToken, [batch[i].Trace]))[0];
            }
            catch (Exception e) when (DatabaseErrors.IsRowFault(e) && outcome.From == JobState.Running)
            {
                // A run's outcome the database refuses still ends the run, Failed with the reason.
                var reason = DatabaseErrors.Describe(e);
                LogRefused(logger, outcome.JobId, outcome.Attempt, outcome.Kind, reason);
                applied[i] = (await store.ApplyAsync([JobLifecycle.Unwritable(outcome, reason)], cancellationToken, [batch[i].Trace]))[0];
            }
            catch (Exception e) when (DatabaseErrors.IsRowFault(e))
            {
                // Any other refusal (a requeue, a set-aside) is its caller's to report; the rest of the batch stands.
                batch[i].Done.TrySetException(e);
            }
        }

        return applied;
    }

    private void Publish(AppliedOutcome? applied)
    {
        if (applied is null)
        {
            return;
        }

        var type = applied.Outcome.JobType;
        switch (applied.State)
        {
            case JobState.Succeeded:
                JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsSucceeded, type);
                break;
            case JobState.Failed:
                JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsFailed, type);
                break;
            case JobState.Cancelled:
                JobWorkerTelemetry.RecordFinished(JobWorkerTelemetry.JobsCancelled, type);
                break;
        }

        // A tool without a relay (the CLI) leaves the event recorded; a worker's sweep publishes it.
        relay?.Enqueue(applied.Event);
    }

    private sealed class Completion(JobOutcome outcome, ActivityContext trace, CancellationToken cancellationToken)
    {
        public JobOutcome Outcome { get; } = outcome;

        /// <summary>The trace of the job whose outcome this is (its handler's span), so a batched write can link to it.</summary>
        public ActivityContext Trace { get; } = trace;

        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<AppliedOutcome?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database refused a batch of {Count} outcomes ({Reason}); writing them one by one")]
    private static partial void LogBatchSplit(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} attempt {Attempt}: the database refused its outcome {Outcome} ({Reason}); the job ends Failed with that reason")]
    private static partial void LogRefused(ILogger logger, Guid jobId, int attempt, JobOutcomeKind outcome, string reason);
}
