using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace JobWorker.Telemetry;

/// <summary>The worker's own ActivitySource and Meter, both named "JobWorker", and the instruments on it.</summary>
internal static class JobWorkerTelemetry
{
    public const string Name = "JobWorker";

    public static readonly ActivitySource ActivitySource = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> JobsAccepted = Meter.CreateCounter<long>(
        "jobworker.jobs.accepted", "{job}", "Jobs submitted and stored for the first time, by type");

    public static readonly Counter<long> JobsStarted = Meter.CreateCounter<long>(
        "jobworker.jobs.started", "{job}", "Attempts started, by type");

    public static readonly Counter<long> JobsSucceeded = Meter.CreateCounter<long>(
        "jobworker.jobs.succeeded", "{job}", "Jobs that succeeded, by type");

    public static readonly Counter<long> JobsFailed = Meter.CreateCounter<long>(
        "jobworker.jobs.failed", "{job}", "Jobs that failed for good, by type");

    public static readonly Counter<long> JobsCancelled = Meter.CreateCounter<long>(
        "jobworker.jobs.cancelled", "{job}", "Jobs cancelled, by type");

    public static readonly Counter<long> JobsDeleted = Meter.CreateCounter<long>(
        "jobworker.jobs.deleted", "{job}", "Finished jobs deleted past their retention, by state");

    public static readonly Counter<long> RecurringOccurrences = Meter.CreateCounter<long>(
        "jobworker.recurring.occurrences", "{occurrence}",
        "Occurrences of recurring schedules claimed by this replica, by schedule and outcome (fired, skipped while the previous ran, missed and not caught up)");

    public static readonly Counter<long> JobsHeld = Meter.CreateCounter<long>(
        "jobworker.jobs.held", "{job}",
        "Claims refused by a fleet-wide limit (the job waits in the ledger, holding nothing), by job type and limit (Concurrency, PerKeyConcurrency, Rate)");

    public static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>(
        "jobworker.job.duration", "s", "How long one attempt's handler ran");

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>(
        "jobworker.job.queue_wait", "s", "From a job being due (accepted, scheduled time, or retry backoff over) to its attempt starting, by the database clock");

    public static readonly Histogram<double> TransitionDuration = Meter.CreateHistogram<double>(
        "jobworker.db.transition.duration", "s", "A state transition from start to finish, retries included");

    public static readonly Histogram<double> ConnectionHold = Meter.CreateHistogram<double>(
        "jobworker.db.connection.hold", "s", "How long a transition held a pooled connection, from open to close (pool wait excluded)");

    public static readonly Counter<long> PoolResets = Meter.CreateCounter<long>(
        "jobworker.db.pool.resets", "{reset}", "Connection pool resets (cleared or recreated data source)");

    public static readonly Counter<long> SlowStatements = Meter.CreateCounter<long>(
        "jobworker.db.slow_statements", "{statement}", "SQL statements slower than Database:SlowStatementThreshold");

    private static long _finished;

    /// <summary>Jobs that reached a terminal state in this process; the status log turns it into a rate.</summary>
    public static long FinishedJobs => Interlocked.Read(ref _finished);

    public static void RecordFinished(Counter<long> counter, string jobType)
    {
        Interlocked.Increment(ref _finished);
        counter.Add(1, JobType(jobType));
    }

    public static KeyValuePair<string, object?> JobType(string jobType) => new("jobworker.job.type", jobType);
}
