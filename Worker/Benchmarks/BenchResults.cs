namespace JobWorker.Benchmarks;

/// <summary>Everything one <c>jobworker bench</c> run measured; printed as tables and written as JSON.</summary>
internal sealed record BenchResults(
    DateTime StartedAt,
    string Machine,
    CeilingResult Ceiling,
    DrainResult Drain,
    DrainResult? Concurrency,
    IReadOnlyList<ThroughputResult> Throughput,
    ProfileResult Profile,
    EconomyResult? JobWorker,
    EconomyResult? Baseline,
    DashboardResult? Dashboard,
    IReadOnlyList<TargetResult> Targets)
{
    /// <summary>The priority-9 job's wait behind a backlog (<see cref="PriorityScenario"/>).</summary>
    public PriorityResult? Priority { get; init; }
}

/// <summary>
/// A priority-9 and a priority-0 job published together behind <see cref="Backlog"/> queued priority-0 noop jobs: each
/// one's wait from publish to start, and how many of the backlog the priority-9 job started before.
/// </summary>
internal sealed record PriorityResult(int Backlog, double HighWaitMs, double LowWaitMs, int Overtaken);

/// <summary>The statements of one noop job, run by <see cref="Jobs.JobStore"/> from many clients, as fast as the database allows.</summary>
/// <remarks><see cref="ClientCpuMsPerJob"/>: the bench process's own CPU per job (JobStore, EF, Npgsql), taken from the cores the database runs on.</remarks>
internal sealed record CeilingResult(int Clients, int Jobs, double Seconds, double JobsPerSecond, double ClientCpuMsPerJob);

/// <summary>A backlog published first, then drained by one replica process (first accepted → last finished).</summary>
/// <remarks><see cref="IdealSeconds"/> is the best possible time for jobs that take time (slots × job length), else null.</remarks>
internal sealed record DrainResult(string Scenario, int Jobs, double Seconds, double JobsPerSecond, double? IdealSeconds, double WorkerCpuMsPerJob,
    double PeakWorkingSetMb)
{
    /// <summary>The ideal time over the measured time: 1 is perfect.</summary>
    public double? FractionOfIdeal => IdealSeconds / Seconds;
}

/// <summary>Noop jobs end to end (publish → Succeeded) with a number of worker processes.</summary>
/// <remarks>
/// <see cref="WorkerCpuMsPerJob"/> is the worker processes' CPU time (user + system) per job; <see cref="DbTransactionsPerJob"/>
/// counts the bench database's committed transactions per job: with one implicit transaction per statement, its round trips.
/// </remarks>
internal sealed record ThroughputResult(int Workers, int Jobs, double Seconds, double JobsPerSecond, double P50Ms, double P99Ms,
    double FractionOfCeiling, double PeakWorkingSetMb, double WorkerCpuMsPerJob, double DbTransactionsPerJob);

/// <summary>300 concurrent 1 s jobs on a pool of 5: JobWorker's short transitions, or the baseline holding a context per job.</summary>
internal sealed record EconomyResult(string Design, int Jobs, int Succeeded, double WallSeconds, double IdealSeconds, long PoolTimeouts,
    long PeakBusyConnections, int PoolMax, double HoldP50Ms, double HoldP99Ms, double PeakWorkingSetMb);

/// <summary>What one noop job costs the worker itself (start-up and publishing excluded).</summary>
internal sealed record ProfileResult(int Jobs, double AllocatedKbPerJob, double CpuMsPerJob, int Gen0Collections);

/// <summary>The dashboard's queries on a ledger of <see cref="Rows"/> jobs: each one's p50 and p95, warm.</summary>
internal sealed record DashboardResult(int Rows, double SeedSeconds, IReadOnlyList<QueryTiming> Queries);

internal sealed record QueryTiming(string Query, double P50Ms, double P95Ms);

internal sealed record TargetResult(string Target, string Measured, bool Met);
