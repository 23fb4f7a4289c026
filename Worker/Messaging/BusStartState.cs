namespace JobWorker.Messaging;

/// <summary>How the bus's start stands, for readiness: waiting for the broker (and why), or started.</summary>
internal sealed class BusStartState
{
    private volatile string _waiting = "The bus has not started yet.";
    private volatile bool _started;

    public bool Started => _started;

    /// <summary>What the start waits for, in words an operator can act on.</summary>
    public string Waiting => _waiting;

    public void Wait(string reason) => _waiting = reason;

    public void Start() => _started = true;
}
