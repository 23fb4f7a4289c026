using System.Collections.Concurrent;
using JobWorker.Resilience;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>
/// Records successes in batches, as River's completer and Oban's async acks do: every job whose handler succeeded
/// while a write was in flight goes into the next one, so a busy replica writes many Succeeded rows per statement
/// and an idle one writes each at once (no timer, no added latency). Each flush is one short context and one
/// statement (<see cref="JobStore.SucceedAsync(IReadOnlyList{JobSuccess}, CancellationToken)"/>), fenced per job.
/// </summary>
/// <remarks>
/// A caller waits for its own job's write, so its slot stays taken until the success is recorded: a drain that
/// waits for the slots waits for the flushes too, and nothing is left unwritten in memory.
/// </remarks>
internal sealed class JobCompleter(JobStore store, IOptions<JobOptions> options, IOptions<ResilienceOptions> resilience)
{
    /// <summary>At most this many successes per statement.</summary>
    public const int BatchLimit = 256;

    private readonly ConcurrentQueue<Completion> _queue = new();
    private int _flushing;

    /// <summary>Running (this attempt, this owner) → Succeeded; returns the event, or null when the row had moved on.</summary>
    /// <param name="cancellationToken">Bounds the wait (and the write it joins).</param>
    public Task<OutboxEvent?> SucceedAsync(Job claimed, string? resultJson, CancellationToken cancellationToken)
    {
        var completion = new Completion(new JobSuccess(claimed, resultJson), cancellationToken);
        _queue.Enqueue(completion);
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) == 0)
        {
            // The flusher writes for every caller, so it runs outside the first one's context (its span, its log
            // scope); each write's span links to the jobs it wrote.
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(FlushAsync);
            }
        }

        return completion.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task FlushAsync()
    {
        var batch = new List<Completion>(BatchLimit);
        while (true)
        {
            while (batch.Count < BatchLimit && _queue.TryDequeue(out var next))
            {
                if (!next.CancellationToken.IsCancellationRequested)
                {
                    batch.Add(next);
                }
            }

            if (batch.Count > 0)
            {
                await WriteAsync(batch);
                batch.Clear();
                continue;
            }

            // Nothing left: stop flushing, unless a success arrived between the last look and now.
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
            var events = await store.SucceedAsync([.. batch.Select(c => c.Success)], bound.Token);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(events[i]);
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

    private sealed class Completion(JobSuccess success, CancellationToken cancellationToken)
    {
        public JobSuccess Success { get; } = success;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<OutboxEvent?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
