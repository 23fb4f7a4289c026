using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>
/// This replica's job slots (<c>Jobs:ConcurrentJobs</c>): a delivery waits here for a free one, holding no
/// connection, and a claimed job's handler runs in it, owned by the worker rather than by the delivery. A freed slot goes
/// to the waiting delivery of the highest priority, then the one that has waited longest, so the prefetched deliveries
/// waiting here do not undo the priority order of the queue. Also the jobs running here right now, so a CancelJob, a lost
/// lease or a drain can reach their handlers.
/// </summary>
internal sealed class JobSlots(IOptions<JobOptions> options)
{
    private readonly Lock _gate = new();
    private int _free = options.Value.ConcurrentJobs;
    // Highest priority first, then first come. A cancelled waiter stays in the heap until a freed slot passes over it.
    private readonly PriorityQueue<TaskCompletionSource, (int Priority, long Arrival)> _waiters =
        new(Comparer<(int Priority, long Arrival)>.Create((a, b) => a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : a.Arrival.CompareTo(b.Arrival)));
    private long _arrivals;
    // Keyed by job and attempt: a job claimed again here while an old attempt's handler still runs (its lease lapsed and
    // recovery handed it back) is a second entry, and each keeps its own renewal, cancel and drain.
    private readonly ConcurrentDictionary<(Guid JobId, int Attempt), RunningJob> _running = new();
    private int _waiting;
    private long _lastProgress = Stopwatch.GetTimestamp();

    public int Capacity { get; } = options.Value.ConcurrentJobs;

    /// <summary>Slots taken: jobs being claimed, running, or having their outcome recorded.</summary>
    public int Busy => Capacity - Volatile.Read(ref _free);

    /// <summary>Deliveries waiting for a free slot.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>How long since a job was last claimed or had its outcome recorded here.</summary>
    public TimeSpan SinceLastProgress => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastProgress));

    public IReadOnlyCollection<RunningJob> Running => [.. _running.Values];

    /// <summary>Waits for a free slot at priority 0; the returned slot must be disposed (it frees the slot).</summary>
    public Task<Slot> TakeAsync(CancellationToken cancellationToken) => TakeAsync(0, cancellationToken);

    /// <summary>
    /// Waits for a free slot, served before every waiter of a lower <paramref name="priority"/> and after those of the
    /// same priority that came earlier; the returned slot must be disposed (it frees the slot).
    /// </summary>
    public async Task<Slot> TakeAsync(int priority, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var handed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            // A free slot means no one waits: a freed slot is handed to a waiter before it is counted free.
            if (_free > 0)
            {
                _free--;
                return new Slot(this);
            }

            _waiters.Enqueue(handed, (priority, _arrivals++));
            Interlocked.Increment(ref _waiting);
        }

        try
        {
            // Whichever comes first wins: a slot handed over after the cancel is no longer taken by this waiter, and one
            // handed over before it is this waiter's to use (and dispose).
            await using (cancellationToken.Register(() => handed.TrySetCanceled(cancellationToken)))
            {
                await handed.Task;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return new Slot(this);
    }

    /// <summary>Hands the freed slot to the first waiter still waiting, or counts it free.</summary>
    private void Release()
    {
        lock (_gate)
        {
            while (_waiters.TryDequeue(out var waiter, out _))
            {
                if (waiter.TrySetResult())
                {
                    return;
                }
            }

            _free++;
        }
    }

    /// <summary>Called when a transition of a job completes: the liveness check's sign of progress.</summary>
    public void RecordProgress() => Interlocked.Exchange(ref _lastProgress, Stopwatch.GetTimestamp());

    public bool TryGet(Guid jobId, int attempt, out RunningJob job) => _running.TryGetValue((jobId, attempt), out job!);

    /// <summary>Cancels the job's handlers (every attempt of it) running here; false when none does.</summary>
    public bool TryCancel(Guid jobId, string reason)
    {
        var stopped = false;
        foreach (var ((id, _), job) in _running)
        {
            stopped |= id == jobId && job.Stop(JobStop.Cancelled, reason);
        }

        return stopped;
    }

    /// <summary>A slot, taken until disposed; while a job runs in it, the job is listed in <see cref="Running"/>.</summary>
    public sealed class Slot(JobSlots slots) : IDisposable
    {
        private RunningJob? _job;
        private int _disposed;

        public RunningJob Run(Job claimed)
        {
            _job = new RunningJob(claimed);
            slots._running[(claimed.Id, claimed.Attempt)] = _job;
            return _job;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            if (_job is not null)
            {
                slots._running.TryRemove(new KeyValuePair<(Guid, int), RunningJob>((_job.Claimed.Id, _job.Claimed.Attempt), _job));
                _job.Dispose();
            }

            slots.Release();
        }
    }
}

/// <summary>Why a running handler was told to stop before it finished.</summary>
internal enum JobStop
{
    None,

    /// <summary>A CancelJob: the job ends Cancelled.</summary>
    Cancelled,

    /// <summary>The worker is stopping: the job goes back to Pending without using up its attempt.</summary>
    Draining,

    /// <summary>This replica could not renew the job's lease, or the job is no longer its own: another replica may run it.</summary>
    LeaseLost,
}

/// <summary>One job running in a slot, and how its handler is told to stop.</summary>
internal sealed class RunningJob(Job claimed) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private int _reason;

    /// <summary>The row as claimed: its attempt and owner fence every write of this run.</summary>
    public Job Claimed { get; } = claimed;

    public Guid JobId => Claimed.Id;

    /// <summary>Fires when the handler must stop early; <see cref="StopReason"/> says why.</summary>
    public CancellationToken Stopping => _stop.Token;

    public JobStop StopReason => (JobStop)Volatile.Read(ref _reason);

    public string? CancelReason { get; private set; }

    /// <summary>The handler has returned: the slot is only recording the outcome now.</summary>
    public bool HandlerReturned { get; set; }

    /// <summary>When this replica last renewed the job's lease (at the claim, first).</summary>
    public long LeaseRenewedAt { get; set; } = Stopwatch.GetTimestamp();

    private JobProgress? _progress;
    private long _reported;
    private long _written;

    /// <summary>The handler's latest progress report, kept until <see cref="ProgressWriter"/> writes it.</summary>
    public void ReportProgress(JobProgress progress)
    {
        Volatile.Write(ref _progress, progress);
        Interlocked.Increment(ref _reported);
    }

    /// <summary>The latest report when it has not been written yet, with its number for <see cref="MarkProgressWritten"/>.</summary>
    public (JobProgress Progress, long Version)? UnwrittenProgress()
    {
        var version = Interlocked.Read(ref _reported);
        return version == Interlocked.Read(ref _written) || Volatile.Read(ref _progress) is not { } progress ? null : (progress, version);
    }

    /// <summary>Reports up to <paramref name="version"/> are written (or refused by the fence: they never will be).</summary>
    public void MarkProgressWritten(long version)
    {
        long seen;
        do
        {
            seen = Interlocked.Read(ref _written);
        }
        while (version > seen && Interlocked.CompareExchange(ref _written, version, seen) != seen);
    }

    /// <summary>Stops the handler; the first reason given wins. False when it had already been told to stop.</summary>
    public bool Stop(JobStop reason, string? cancelReason = null)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)JobStop.None) != (int)JobStop.None)
        {
            return false;
        }

        CancelReason = cancelReason;
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It finished as we asked.
        }

        return true;
    }

    public void Dispose() => _stop.Dispose();
}
