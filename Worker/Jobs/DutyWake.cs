namespace JobWorker.Jobs;

/// <summary>
/// Asks a maintenance duty to tick now rather than at its next interval, e.g. the dispatcher when a limited type's place
/// frees in this replica, so the next held job is sent within milliseconds, not a tick. Coalesced: any number of wakes
/// before the duty ticks make one tick.
/// </summary>
internal sealed class DutyWake
{
    private TaskCompletionSource _pending = New();

    /// <summary>Ticks the duty as soon as it is free; a wake during a tick makes one more tick after it.</summary>
    public void Wake() => Volatile.Read(ref _pending).TrySetResult();

    /// <summary>Completes at the next wake.</summary>
    internal Task Pending => Volatile.Read(ref _pending).Task;

    /// <summary>Called before the tick a wake started: wakes from now on call for another tick.</summary>
    internal void Reset()
    {
        var current = Volatile.Read(ref _pending);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _pending, New(), current);
        }
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
