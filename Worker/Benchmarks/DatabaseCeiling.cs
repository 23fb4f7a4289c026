using System.Diagnostics;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>
/// The database's own ceiling for JobWorker's work: the transitions a noop job submitted now makes on the worker's hot
/// path (accept-and-claim, then the Succeeded outcome the lifecycle decides), each its own statement on a connection
/// rented for it, run by <see cref="JobStore"/> itself from many clients at once. No broker, no handler, no retries
/// (<see cref="TransitionResilience.None"/>), no outcome batching: each job's outcome is written alone, so this is what
/// the database gives one job at a time.
/// </summary>
internal static class DatabaseCeiling
{
    /// <summary>The statements per job: accept-claim and apply-outcomes, each recording its event.</summary>
    public const int StatementsPerJob = 2;

    private const string Owner = "bench-ceiling";

    /// <summary>The worker's defaults: a submission without its own attempt budget, and the lease a claim takes.</summary>
    private static readonly int MaxAttempts = new SubmissionOptions().DefaultMaxAttempts;
    private static readonly TimeSpan Lease = new JobOptions().LeaseDuration;

    public static async Task<CeilingResult> MeasureAsync(string connectionString, int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var dataSource = new NpgsqlDataSourceBuilder(connectionString)
        {
            ConnectionStringBuilder = { MaxPoolSize = clients, ApplicationName = "jobworker-bench-ceiling" },
        }.Build();
        var store = new JobStore(
            new PooledDbContextFactory<JobDbContext>(new DbContextOptionsBuilder<JobDbContext>().UseNpgsql(dataSource).Options),
            TransitionResilience.None, Options.Create(new DispatchOptions()));
        var lifecycle = new JobLifecycle(Options.Create(new RetryOptions()));

        await RunAsync(store, lifecycle, clients, TimeSpan.FromSeconds(1), cancellationToken); // warm the pool, the plans, EF
        // The clients share the machine with the database: their own CPU per job says how much of it they took.
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var jobs = await RunAsync(store, lifecycle, clients, duration, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return new CeilingResult(clients, jobs, seconds, jobs / seconds, (process.TotalProcessorTime - cpu).TotalMilliseconds / jobs);
    }

    private static async Task<int> RunAsync(JobStore store, JobLifecycle lifecycle, int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                await OneJobAsync(store, lifecycle, cancellationToken);
                Interlocked.Increment(ref done);
            }
        }, cancellationToken)));
        return done;
    }

    /// <summary>What the worker writes for a noop job submitted now: accepted and claimed at once, then Succeeded.</summary>
    private static async Task OneJobAsync(JobStore store, JobLifecycle lifecycle, CancellationToken cancellationToken)
    {
        var job = new NewJob(Guid.CreateVersion7(), "noop", "null", MaxAttempts, null, null, Queue: "bench-ceiling");
        var (_, claimed) = await store.AcceptAndClaimAsync(job, Owner, Guid.NewGuid(), Lease, cancellationToken);
        var applied = await store.ApplyAsync([lifecycle.AfterRun(
            claimed ?? throw new InvalidOperationException($"The ceiling's job {job.Id} was not claimed."), AttemptResult.Succeeded(null))], cancellationToken);
        if (applied[0] is null)
        {
            throw new InvalidOperationException($"The ceiling's job {job.Id} did not succeed: its outcome was fenced off.");
        }
    }
}
