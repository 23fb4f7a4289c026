using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Resilience;

/// <summary>
/// Stops and restarts this worker's receive endpoints while the database is unavailable, so jobs wait in
/// RabbitMQ instead of being taken and failed (the messaging analogue of a circuit breaker, like
/// MassTransit's kill switch, but driven by the database breaker rather than by consumer faults).
/// </summary>
/// <remarks>Only the job and status queues pause: cancellations keep flowing, since they reach running jobs in memory.</remarks>
public sealed partial class ConsumptionPause(IOptions<JobOptions> options, IHostApplicationLifetime lifetime, ILogger<ConsumptionPause> logger)
    : IReceiveEndpointObserver
{
    private readonly HashSet<string> _pausable = [options.Value.QueueName, $"{options.Value.QueueName}-status"];

    private readonly Dictionary<Uri, IReceiveEndpoint> _endpoints = [];
    private readonly SemaphoreSlim _switching = new(1, 1);
    private TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _isPaused;
    private Task _lastSwitch = Task.CompletedTask;

    public bool IsPaused => _isPaused;

    /// <summary>Stops taking messages. Returns at once; the endpoints stop in the background.</summary>
    public void Pause(string reason)
    {
        if (_isPaused)
        {
            return;
        }

        _isPaused = true;
        _paused.TrySetResult();
        LogPaused(logger, reason);
        _lastSwitch = SwitchAsync(endpoint => endpoint.Stop(lifetime.ApplicationStopping), "stop");
    }

    /// <summary>Takes messages again.</summary>
    public void Resume()
    {
        if (!_isPaused)
        {
            return;
        }

        _isPaused = false;
        _paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        LogResumed(logger);
        _lastSwitch = SwitchAsync(endpoint => endpoint.Start(lifetime.ApplicationStopping).Ready, "start");
    }

    /// <summary>Completes when the last pause or resume has reached every endpoint.</summary>
    internal Task Settled => _lastSwitch;

    /// <summary>Completes when consumption is paused (at once if it is).</summary>
    public Task WaitUntilPausedAsync(CancellationToken cancellationToken) => _paused.Task.WaitAsync(cancellationToken);

    private async Task SwitchAsync(Func<IReceiveEndpoint, Task> action, string verb)
    {
        // One switch at a time, in order: a resume waits for the stop before it to finish. Once the host is
        // stopping, the bus stops every endpoint itself; switching one then could leave the stop waiting on it.
        try
        {
            await _switching.WaitAsync(lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            IReceiveEndpoint[] endpoints;
            lock (_endpoints)
            {
                endpoints = [.. _endpoints.Values];
            }

            foreach (var endpoint in endpoints)
            {
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    await action(endpoint).WaitAsync(TimeSpan.FromSeconds(30), lifetime.ApplicationStopping);
                }
                catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    LogSwitchFailed(logger, e, verb, endpoint.InputAddress);
                }
            }
        }
        finally
        {
            _switching.Release();
        }
    }

    public Task Ready(ReceiveEndpointReady ready)
    {
        if (!_pausable.Contains(ready.InputAddress.AbsolutePath.TrimStart('/')))
        {
            return Task.CompletedTask;
        }

        lock (_endpoints)
        {
            _endpoints[ready.InputAddress] = ready.ReceiveEndpoint;
        }

        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumption paused: {Reason}. Jobs wait in RabbitMQ until the database answers again")]
    private static partial void LogPaused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumption resumed: the database answers again")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not {Verb} receive endpoint {Endpoint}")]
    private static partial void LogSwitchFailed(ILogger logger, Exception exception, string verb, Uri endpoint);
}
