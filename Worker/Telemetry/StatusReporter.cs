using System.Diagnostics.Metrics;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Telemetry;

/// <summary>
/// A one-line status log every <c>Telemetry:StatusInterval</c>, so <c>docker logs</c> alone tells how the worker
/// is doing; it also publishes the in-flight and circuit-state gauges.
/// </summary>
public sealed partial class StatusReporter : BackgroundService
{
    private readonly InFlightJobs _inFlight;
    private readonly JobDatabase _database;
    private readonly ConsumptionPause _pause;
    private readonly TimeSpan _interval;
    private readonly int _concurrency;
    private readonly ILogger<StatusReporter> _logger;
    private readonly NpgsqlPoolUsage _pool = new();

    public StatusReporter(
        InFlightJobs inFlight, JobDatabase database, ConsumptionPause pause,
        IOptions<TelemetryOptions> telemetry, IOptions<JobOptions> jobs, ILogger<StatusReporter> logger)
    {
        (_inFlight, _database, _pause, _logger) = (inFlight, database, pause, logger);
        _interval = telemetry.Value.StatusInterval;
        _concurrency = jobs.Value.ConcurrentJobs;
        JobWorkerTelemetry.Meter.CreateObservableUpDownCounter("jobworker.jobs.in_flight", () => _inFlight.Count, "{job}", "Jobs this replica is working on");
        JobWorkerTelemetry.Meter.CreateObservableGauge("jobworker.db.circuit.state", () => _pause.IsPaused ? 1 : 0, null,
            "1 while the database circuit is open and consumption is paused, else 0");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(_interval);
        var finished = JobWorkerTelemetry.FinishedJobs;
        var resets = _database.Resets;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var (nowFinished, nowResets) = (JobWorkerTelemetry.FinishedJobs, _database.Resets);
            var (used, idle) = _pool.Read(_database.PoolName);
            LogStatus(_logger, _inFlight.Count, _concurrency, (nowFinished - finished) / _interval.TotalSeconds,
                used, _database.PoolMax, idle, _pause.IsPaused ? "PAUSED (database unavailable)" : "running", nowResets - resets);
            (finished, resets) = (nowFinished, nowResets);
        }
    }

    public override void Dispose()
    {
        _pool.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Status: {InFlight}/{Concurrency} jobs in flight, {Rate:F1} jobs/s, {Busy}/{PoolMax} connections busy ({Idle} idle), consumption {Consumption}, {Resets} pool resets")]
    private static partial void LogStatus(ILogger logger, int inFlight, int concurrency, double rate, long busy, int poolMax, long idle, string consumption, int resets);
}
