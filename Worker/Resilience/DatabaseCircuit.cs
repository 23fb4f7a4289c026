namespace JobWorker.Resilience;

/// <summary>
/// The database circuit breaker's state as a signal: open while the database keeps failing. Messaging pauses
/// consumption on it; the probe tests the database while it is open.
/// </summary>
internal sealed class DatabaseCircuit
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _isOpen;

    public bool IsOpen => _isOpen;

    /// <summary>Why it last opened.</summary>
    public string? Reason { get; private set; }

    /// <summary>Raised (outside any lock) whenever the circuit opens or closes.</summary>
    public event Action? Changed;

    /// <summary>Completes when the circuit is open (at once if it is).</summary>
    public Task WaitUntilOpenAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _opened.Task.WaitAsync(cancellationToken);
        }
    }

    internal void Open(string reason)
    {
        lock (_gate)
        {
            if (_isOpen)
            {
                return;
            }

            Reason = reason;
            _isOpen = true;
            _opened.TrySetResult();
        }

        Changed?.Invoke();
    }

    internal void Close()
    {
        lock (_gate)
        {
            if (!_isOpen)
            {
                return;
            }

            _isOpen = false;
            _opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        Changed?.Invoke();
    }
}
