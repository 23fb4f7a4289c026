using JobWorker.Telemetry;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Messaging;
using JobWorker.Resilience;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>
/// A one-line status log every <c>Telemetry:StatusInterval</c>, so <c>docker logs</c> alone tells how the worker
/// is doing; it also publishes the in-flight and circuit-state gauges.
/// </summary>
internal sealed partial class StatusReporter : BackgroundService
{
    private readonly JobSlots _slots;
    private readonly JobDatabase _database;
    private readonly ConsumptionControl _consumption;
    private readonly DatabaseCircuit _circuit;
    private readonly JobEventRelay _relay;
    private readonly TimeSpan _interval;
    private readonly ILogger<StatusReporter> _logger;
    private readonly NpgsqlPoolUsage _pool = new();

    public StatusReporter(
        JobSlots slots, JobDatabase database, ConsumptionControl consumption, DatabaseCircuit circuit, JobEventRelay relay,
        IOptions<TelemetryOptions> telemetry, ILogger<StatusReporter> logger)
    {
        (_slots, _database, _consumption, _circuit, _relay, _logger) = (slots, database, consumption, circuit, relay, logger);
        _interval = telemetry.Value.StatusInterval;
        JobWorkerTelemetry.Meter.CreateObservableUpDownCounter("jobworker.jobs.in_flight", () => _slots.Busy, "{job}", "Job slots of this replica in use");
        JobWorkerTelemetry.Meter.CreateObservableUpDownCounter("jobworker.jobs.waiting", () => _slots.Waiting, "{delivery}", "Deliveries waiting for a job slot");
        JobWorkerTelemetry.Meter.CreateObservableGauge("jobworker.db.circuit.state", () => _circuit.IsOpen ? 1 : 0, null,
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
            var (used, idle, _) = _pool.Read(_database.PoolName);
            LogStatus(_logger, _slots.Busy, _slots.Capacity, _slots.Waiting, (nowFinished - finished) / _interval.TotalSeconds,
                used, _database.PoolMax, idle, _consumption.State, _relay.Pending, nowResets - resets);
            (finished, resets) = (nowFinished, nowResets);
        }
    }

    public override void Dispose()
    {
        _pool.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Status: {InFlight}/{Concurrency} jobs in flight, {Waiting} waiting, {Rate:F1} jobs/s, {Busy}/{PoolMax} connections busy ({Idle} idle), consumption {Consumption}, {Events} events to publish, {Resets} pool resets")]
    private static partial void LogStatus(ILogger logger, int inFlight, int concurrency, int waiting, double rate, long busy, int poolMax, long idle, string consumption, int events, int resets);
}
