using System.Diagnostics;
using JobWorker.Resilience;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobWorker.Jobs;

/// <summary>
/// One maintenance duty that every replica runs on a timer, with no leader (River's maintenance services): the rescuer,
/// the dispatcher, the event sweep, the heartbeat. Each is its own failure domain: a failing tick is logged (once, then
/// every 30th), counted and reported to readiness under the duty's name, and never stops another duty.
/// </summary>
internal abstract partial class MaintenanceService(ILogger logger) : BackgroundService
{
    private long _lastSuccess;
    private int _failures;
    private string? _lastError;

    /// <summary>The duty's name, as readiness reports it.</summary>
    public abstract string Name { get; }

    /// <summary>Whether readiness fails when this duty does (a heartbeat only feeds the dashboard).</summary>
    public virtual bool Critical => true;

    /// <summary>Time between ticks.</summary>
    public abstract TimeSpan Interval { get; }

    /// <summary>How long a tick may take, however the database or broker behaves; also how stale readiness lets it get.</summary>
    public TimeSpan TickBound => TimeSpan.FromTicks(Math.Max(Interval.Ticks * 10, TimeSpan.FromSeconds(30).Ticks));

    /// <summary>Time since the last tick that succeeded; null before the first.</summary>
    public TimeSpan? SinceLastSuccess
    {
        get
        {
            var at = Interlocked.Read(ref _lastSuccess);
            return at == 0 ? null : Stopwatch.GetElapsedTime(at);
        }
    }

    /// <summary>Failed ticks in a row.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Why the last failed tick failed, while it keeps failing.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>One tick of the duty.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>What may tick the duty before its interval ends; null for a duty that ticks on its timer alone.</summary>
    protected virtual DutyWake? Wakes => null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        Task<bool>? tick = null;
        while (true)
        {
            await TickAsync(stoppingToken);
            tick ??= timer.WaitForNextTickAsync(stoppingToken).AsTask();
            if (Wakes is { } wakes)
            {
                // The timer's wait stays pending across a wake (a PeriodicTimer allows one wait at a time), so woken ticks
                // never delay the timed ones.
                await Task.WhenAny(tick, wakes.Pending);
                wakes.Reset();
                if (!tick.IsCompleted)
                {
                    continue;
                }
            }

            if (!await tick)
            {
                return;
            }

            tick = null;
        }
    }

    /// <summary>One bounded tick; a failure is recorded and the next tick tries again.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(TickBound);
        try
        {
            await RunOnceAsync(bound.Token);
            Interlocked.Exchange(ref _lastSuccess, Stopwatch.GetTimestamp());
            Volatile.Write(ref _lastError, null);
            if (Interlocked.Exchange(ref _failures, 0) > 0)
            {
                LogRecovered(logger, Name);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = DatabaseErrors.Describe(e);
            Volatile.Write(ref _lastError, reason);
            var failures = Interlocked.Increment(ref _failures);
            if (failures == 1 || failures % 30 == 0)
            {
                LogFailed(logger, Name, failures, reason);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Maintenance: {Duty} failed ({Failures} in a row): {Reason}")]
    private static partial void LogFailed(ILogger logger, string duty, int failures, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Maintenance: {Duty} works again")]
    private static partial void LogRecovered(ILogger logger, string duty);
}
