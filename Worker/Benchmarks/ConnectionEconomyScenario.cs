using Microsoft.Extensions.Hosting;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>
/// The seeds' scenario: 300 concurrent jobs of 1 s each on a pool of 5. JobWorker (a complete worker, in this
/// process so its pool and spans can be watched) against the design it replaces: one connection held for the whole
/// job. Both write the same statements, through <see cref="JobStore"/>.
/// </summary>
internal static class ConnectionEconomyScenario
{
    public const int Jobs = 300;
    public const int PoolMax = 5;
    private static readonly TimeSpan JobLength = TimeSpan.FromSeconds(1);

    public static async Task<EconomyResult> RunJobWorkerAsync(string connectionString, BenchSender sender, CancellationToken cancellationToken)
    {
        var queue = $"bench-{Guid.NewGuid():N}"[..18];
        var pooled = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = PoolMax, Timeout = 15, ApplicationName = $"jobworker/{queue}" }.ConnectionString;
        await using var app = BenchWorkers.InProcess(new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = pooled,
            ["Jobs:QueueName"] = queue,
            ["Jobs:ConcurrentJobs"] = Jobs.ToString(),
            ["Health:Port"] = "0",
            ["Telemetry:StatusInterval"] = "00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await app.StartAsync(cancellationToken);
        var endpoint = await sender.JobsQueueAsync(queue, cancellationToken);

        // Warm up (JIT, EF's compiled queries, the pool) so the run measures the steady state, not the first second.
        var warmUp = Enumerable.Range(0, 50).Select(_ => new SubmitJob { JobId = NewId.NextGuid(), JobType = "noop" }).ToList();
        await Task.WhenAll(warmUp.Select(m => endpoint.Send(m, cancellationToken)));
        await ThroughputScenario.WaitForFinishedAsync(connectionString, [.. warmUp.Select(m => m.JobId)], TimeSpan.FromMinutes(1), cancellationToken);

        // Each job's transitions (accept, claim, succeed), from their spans: how long they held a connection in all.
        var holds = new ConcurrentDictionary<Guid, double>();
        using var spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == JobWorkerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("jobworker.job.id") is Guid id && activity.GetTagItem("jobworker.db.connection.hold_ms") is double held)
                {
                    holds.AddOrUpdate(id, held, (_, total) => total + held);
                }
            },
        };
        ActivitySource.AddActivityListener(spans);

        var database = app.Services.GetRequiredService<JobDatabase>();
        using var pool = new NpgsqlPoolUsage();
        using var sampling = new CancellationTokenSource();
        var peakBusy = SamplePeakAsync(() => pool.Read(database.PoolName).Used, sampling.Token);

        var messages = Enumerable.Range(0, Jobs)
            .Select(_ => new SubmitJob { JobId = NewId.NextGuid(), JobType = "delay", Payload = JsonSerializer.SerializeToElement(new { ms = (int)JobLength.TotalMilliseconds }) })
            .ToList();
        var started = DateTime.UtcNow;
        await Task.WhenAll(messages.Select(m => endpoint.Send(m, cancellationToken)));
        var finished = await ThroughputScenario.WaitForFinishedAsync(connectionString, [.. messages.Select(m => m.JobId)], TimeSpan.FromMinutes(2), cancellationToken);
        var wall = (finished.Values.Max() - started).TotalSeconds;
        var timeouts = pool.Timeouts(database.PoolName);

        await sampling.CancelAsync();
        var busy = await peakBusy;
        await app.StopAsync(cancellationToken);
        var perJob = holds.Where(h => finished.ContainsKey(h.Key)).Select(h => h.Value).ToList();
        return new EconomyResult("JobWorker: one short context per transition", Jobs, finished.Count, wall, JobLength.TotalSeconds, timeouts,
            busy, PoolMax, BenchMath.Percentile(perJob, 50), BenchMath.Percentile(perJob, 99),
            Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024.0);
    }

    /// <summary>
    /// The replaced design: each job rents one connection from the pool when it starts and holds it until its last write,
    /// through the whole 1 s of work, writing on it what JobWorker writes (accept-and-claim, then the Succeeded outcome, by
    /// <see cref="JobStore"/> itself). With 300 such jobs on a pool of 5, the pool holds 5 jobs at a time and the rest wait
    /// for a connection; one that waits longer than the pool's Timeout (15 s) fails, and is counted as a pool timeout.
    /// </summary>
    /// <remarks>
    /// What a job holds: one pooled connection, from <c>OpenConnectionAsync</c> until after its outcome is written. The
    /// hold per job is timed from the moment it has its connection (the wait for one is not counted) to that write.
    /// </remarks>
    public static async Task<EconomyResult> RunBaselineAsync(string connectionString, CancellationToken cancellationToken)
    {
        var applicationName = $"jobworker-baseline-{Guid.NewGuid():N}"[..28];
        await using var dataSource = new NpgsqlDataSourceBuilder(connectionString)
        {
            Name = applicationName,
            ConnectionStringBuilder = { MaxPoolSize = PoolMax, Timeout = 15, ApplicationName = applicationName },
        }.Build();
        var options = new DbContextOptionsBuilder<JobDbContext>().UseNpgsql().Options;
        var dispatch = Options.Create(new DispatchOptions());
        var lifecycle = new JobLifecycle(Options.Create(new RetryOptions()));
        var lease = new JobOptions().LeaseDuration;
        var maxAttempts = new SubmissionOptions().DefaultMaxAttempts;
        using var pool = new NpgsqlPoolUsage();
        using var sampling = new CancellationTokenSource();
        var peakBusy = SamplePeakAsync(() => pool.Read(applicationName).Used, sampling.Token);

        var holds = new ConcurrentBag<double>();
        var succeeded = 0;
        var exhausted = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Jobs).Select(_ => Task.Run(async () =>
        {
            var job = new NewJob(Guid.CreateVersion7(), "delay", """{"ms": 1000}""", maxAttempts, null, null, Queue: applicationName);
            NpgsqlConnection connection;
            try
            {
                connection = await dataSource.OpenConnectionAsync(cancellationToken);
            }
            catch (NpgsqlException e) when (e.InnerException is TimeoutException)
            {
                // Pool exhausted: the job waited Timeout for a connection and gave up.
                Interlocked.Increment(ref exhausted);
                return;
            }

            await using (connection)
            {
                var held = Stopwatch.StartNew();
                var store = new JobStore(new HeldConnectionContexts(options, connection), TransitionResilience.None, dispatch);
                var (_, claimed) = await store.AcceptAndClaimAsync(job, applicationName, Guid.NewGuid(), lease, cancellationToken);
                await Task.Delay(JobLength, cancellationToken);
                var applied = await store.ApplyAsync([lifecycle.AfterRun(
                    claimed ?? throw new InvalidOperationException($"The baseline's job {job.Id} was not claimed."), AttemptResult.Succeeded(null))], cancellationToken);
                holds.Add(held.Elapsed.TotalMilliseconds);
                if (applied[0] is not null)
                {
                    Interlocked.Increment(ref succeeded);
                }
            }
        }, cancellationToken)));
        var wall = clock.Elapsed.TotalSeconds;
        var timeouts = Math.Max(pool.Timeouts(applicationName), exhausted);
        await sampling.CancelAsync();
        return new EconomyResult("Baseline: one connection held for the whole job", Jobs, succeeded, wall, JobLength.TotalSeconds, timeouts,
            await peakBusy, PoolMax, BenchMath.Percentile([.. holds], 50), BenchMath.Percentile([.. holds], 99),
            Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024.0);
    }

    private static async Task<long> SamplePeakAsync(Func<long> read, CancellationToken cancellationToken)
    {
        var peak = 0L;
        while (!cancellationToken.IsCancellationRequested)
        {
            peak = Math.Max(peak, read());
            try
            {
                await Task.Delay(5, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return peak;
    }
}
