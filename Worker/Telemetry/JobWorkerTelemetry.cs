using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace JobWorker.Telemetry;

/// <summary>The worker's own ActivitySource and Meter, both named "JobWorker", and the instruments on it.</summary>
public static class JobWorkerTelemetry
{
    public const string Name = "JobWorker";

    public static readonly ActivitySource ActivitySource = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> TransitionRetries = Meter.CreateCounter<long>(
        "jobworker.db.transition.retries", description: "State transitions retried after a transient database error");

    public static readonly Counter<long> PoolResets = Meter.CreateCounter<long>(
        "jobworker.db.pool.resets", description: "Connection pool resets (cleared or recreated data source)");

    public static readonly Counter<long> CircuitTransitions = Meter.CreateCounter<long>(
        "jobworker.db.circuit.transitions", description: "Database circuit breaker state changes, tagged by the new state");
}
