using JobWorker.Jobs;
using JobWorker.Resilience;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// Starts and stops this worker's job and status endpoints: stopped while the <see cref="DatabaseCircuit"/> is open,
/// so jobs wait in RabbitMQ instead of being taken and failed (MassTransit's kill switch, driven by the database),
/// stopped while an operator has paused the queue (the job endpoint only: status requests are still answered), and
/// stopped for good when the worker drains. A reconciling loop drives each endpoint to the wanted state and checks
/// that it got there, retrying until it does, so a resume can never be lost behind an unfinished stop.
/// </summary>
/// <remarks>
/// Stopping an endpoint touches no running handler: handlers run in job slots, not in deliveries. Cancellations keep
/// flowing, since they must reach running jobs.
/// </remarks>
internal sealed partial class ConsumptionControl : BackgroundService, IReceiveEndpointObserver
{
    private static readonly TimeSpan SwitchTimeout = TimeSpan.FromSeconds(30);

    private readonly DatabaseCircuit _circuit;
    private readonly ILogger<ConsumptionControl> _logger;
    private readonly HashSet<string> _controlled;
    private readonly string _jobsQueue;
    private readonly Dictionary<string, Endpoint> _endpoints = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    private readonly HashSet<string> _stoppedHere = []; // touched only inside a reconciling pass
    private volatile bool _shuttingDown;
    private bool _wasPaused;
    private QueuePause? _operatorPause;

    public ConsumptionControl(DatabaseCircuit circuit, IOptions<JobOptions> options, ILogger<ConsumptionControl> logger)
    {
        (_circuit, _logger) = (circuit, logger);
        _jobsQueue = QueueNames.Jobs(options.Value);
        _controlled = [_jobsQueue, QueueNames.Status(options.Value)];
        circuit.Changed += Wake;
    }

    /// <summary>Consumption is wanted: the circuit is closed and the worker is not draining.</summary>
    public bool ShouldConsume => !_circuit.IsOpen && !_shuttingDown;

    /// <summary>
    /// The operator's pause of this queue, as <see cref="QueuePauseWatcher"/> last read it; null while it runs. Setting it
    /// wakes the reconciling loop, which stops or starts the job endpoint.
    /// </summary>
    public QueuePause? OperatorPause
    {
        get => Volatile.Read(ref _operatorPause);
        set
        {
            if (Interlocked.Exchange(ref _operatorPause, value) is null != value is null)
            {
                if (value is null)
                {
                    LogOperatorResumed(_logger);
                }
                else
                {
                    LogOperatorPaused(_logger, value.Describe());
                }

                Wake();
            }
        }
    }

    /// <summary>Every controlled endpoint is in the state wanted of it: consuming, but for the job endpoint while an operator pauses the queue (false before the bus has started them).</summary>
    public bool IsConsuming
    {
        get
        {
            lock (_endpoints)
            {
                return _endpoints.Count == _controlled.Count
                    && _endpoints.Values.All(e => e.State == EndpointState.Consuming || (IsHeldByOperator(e.Name) && e.State == EndpointState.Stopped));
            }
        }
    }

    /// <summary>Why consumption is not wanted, for health and status.</summary>
    public string State => _shuttingDown ? "stopped (draining)"
        : _circuit.IsOpen ? $"PAUSED (database unavailable: {_circuit.Reason})"
        : OperatorPause is { } pause ? $"PAUSED ({pause.Describe()})"
        : IsConsuming ? "running" : "waiting for the broker (starting or reconnecting)";

    /// <summary>The job endpoint stays stopped while an operator pauses the queue; status requests are still answered.</summary>
    private bool IsHeldByOperator(string endpoint) => endpoint == _jobsQueue && OperatorPause is not null;

    /// <summary>On shutdown: stops the job and status endpoints for good and waits (bounded) until they have stopped.</summary>
    public async Task StopForShutdownAsync(CancellationToken cancellationToken)
    {
        _shuttingDown = true;
        await ReconcileAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await _wake.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            if (!_shuttingDown)
            {
                await ReconcileAsync(stoppingToken);
            }
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        // One pass at a time: the loop's and the drain's never interleave.
        await _reconciling.WaitAsync(cancellationToken);
        try
        {
            await ReconcileOnceAsync(cancellationToken);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    private async Task ReconcileOnceAsync(CancellationToken cancellationToken)
    {
        var consume = ShouldConsume;
        if (consume == _wasPaused)
        {
            if (consume)
            {
                LogResumed(_logger);
            }
            else if (!_shuttingDown)
            {
                LogPaused(_logger, _circuit.Reason ?? "unknown");
            }

            _wasPaused = !consume;
        }

        Endpoint[] endpoints;
        lock (_endpoints)
        {
            endpoints = [.. _endpoints.Values];
        }

        // An endpoint that lost its broker is MassTransit's to reconnect; only one this control stopped is started again,
        // and it counts as started once MassTransit says so (its Ready event), checked on every pass.
        foreach (var (endpoint, wanted) in endpoints
            .Select(e => (e, Wanted: consume && !IsHeldByOperator(e.Name)))
            .Where(x => x.Wanted ? _stoppedHere.Contains(x.e.Name) : !_stoppedHere.Contains(x.e.Name)))
        {
            try
            {
                if (wanted)
                {
                    await endpoint.ReceiveEndpoint.Start(cancellationToken).Ready.WaitAsync(SwitchTimeout, cancellationToken);
                    _stoppedHere.Remove(endpoint.Name);
                }
                else
                {
                    await endpoint.ReceiveEndpoint.Stop(cancellationToken).WaitAsync(SwitchTimeout, cancellationToken);
                    _stoppedHere.Add(endpoint.Name);
                }
            }
            catch (InvalidOperationException) when (wanted && endpoint.State != EndpointState.Stopped)
            {
                // "Already started": MassTransit restarted it itself (a reconnect); it is no longer ours to start.
                _stoppedHere.Remove(endpoint.Name);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The next pass tries again.
                LogSwitchFailed(_logger, e, wanted ? "start" : "stop", endpoint.Name);
            }
        }
    }

    private void Wake() => _wake.Release();

    private void Track(Uri address, IReceiveEndpoint endpoint, EndpointState state)
    {
        var name = QueueNames.Of(address);
        if (!_controlled.Contains(name))
        {
            return;
        }

        lock (_endpoints)
        {
            _endpoints[name] = new Endpoint(name, endpoint, state);
        }

        Wake();
    }

    public Task Ready(ReceiveEndpointReady ready)
    {
        Track(ready.InputAddress, ready.ReceiveEndpoint, ready.IsStarted ? EndpointState.Consuming : EndpointState.Stopped);
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed)
    {
        Track(completed.InputAddress, completed.ReceiveEndpoint, EndpointState.Stopped);
        return Task.CompletedTask;
    }

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        Track(faulted.InputAddress, faulted.ReceiveEndpoint, EndpointState.Faulted);
        return Task.CompletedTask;
    }

    public override void Dispose()
    {
        _circuit.Changed -= Wake;
        base.Dispose();
    }

    private sealed record Endpoint(string Name, IReceiveEndpoint ReceiveEndpoint, EndpointState State);

    private enum EndpointState
    {
        Consuming,
        Stopped,
        Faulted,
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumption paused: the database keeps failing ({Reason}). Jobs wait in RabbitMQ until it answers again; running jobs go on")]
    private static partial void LogPaused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumption resumed: the database answers again")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job consumption paused: the queue is {Pause}. Jobs wait in the ledger and in RabbitMQ until it is resumed; running jobs go on")]
    private static partial void LogOperatorPaused(ILogger logger, string pause);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job consumption resumed: an operator resumed the queue")]
    private static partial void LogOperatorResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not {Verb} receive endpoint {Endpoint}; trying again")]
    private static partial void LogSwitchFailed(ILogger logger, Exception exception, string verb, string endpoint);
}
