using Microsoft.Extensions.Hosting;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Persistence;
using JobWorker.Telemetry;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>
/// The seeds' scenario: 300 concurrent jobs of 1 s each on a pool of 5. JobWorker (a complete worker, in this
/// process so its pool and spans can be watched) against the design it replaces: one DbContext, and so one
/// connection, held for the whole job.
/// </summary>
internal static class ConnectionEconomyScenario
{
    public const int Jobs = 300;
    public const int PoolMax = 5;
    private static readonly TimeSpan JobLength = TimeSpan.FromSeconds(1);

    public static async Task<EconomyResult> RunJobWorkerAsync(string connectionString, ISendEndpointProvider sender, CancellationToken cancellationToken)
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
        var endpoint = await sender.GetSendEndpoint(new Uri($"queue:{queue}"));

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

    /// <summary>The replaced design: each job opens a context, holds its connection through the work, and only then lets go.</summary>
    public static async Task<EconomyResult> RunBaselineAsync(string connectionString, CancellationToken cancellationToken)
    {
        var applicationName = $"jobworker-baseline-{Guid.NewGuid():N}"[..28];
        await using var dataSource = new NpgsqlDataSourceBuilder(connectionString)
        {
            Name = applicationName,
            ConnectionStringBuilder = { MaxPoolSize = PoolMax, Timeout = 15, ApplicationName = applicationName },
        }.Build();
        var contexts = new PooledDbContextFactory<JobDbContext>(new DbContextOptionsBuilder<JobDbContext>().UseNpgsql(dataSource).Options);
        using var pool = new NpgsqlPoolUsage();
        using var sampling = new CancellationTokenSource();
        var peakBusy = SamplePeakAsync(() => pool.Read(applicationName).Used, sampling.Token);

        var holds = new ConcurrentBag<double>();
        var succeeded = 0;
        var exhausted = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Jobs).Select(_ => Task.Run(async () =>
        {
            var id = Guid.CreateVersion7();
            try
            {
                await using var db = await contexts.CreateDbContextAsync(cancellationToken);
                await db.Database.OpenConnectionAsync(cancellationToken);
                var held = Stopwatch.StartNew();
                await db.Database.ExecuteSqlAsync($"INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, created_at, updated_at) VALUES ({id}, 'delay', '{{}}'::jsonb, 'Pending', 0, 3, now(), now())", cancellationToken);
                await db.Database.ExecuteSqlAsync($"UPDATE jobs SET state = 'Running', attempt = 1, started_at = now(), updated_at = now() WHERE id = {id}", cancellationToken);
                await Task.Delay(JobLength, cancellationToken);
                await db.Database.ExecuteSqlAsync($"UPDATE jobs SET state = 'Succeeded', finished_at = now(), updated_at = now() WHERE id = {id}", cancellationToken);
                holds.Add(held.Elapsed.TotalMilliseconds);
                Interlocked.Increment(ref succeeded);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // Pool exhausted: the job waited Timeout for a connection and gave up.
                Interlocked.Increment(ref exhausted);
            }
        }, cancellationToken)));
        var wall = clock.Elapsed.TotalSeconds;
        var timeouts = Math.Max(pool.Timeouts(applicationName), exhausted);
        await sampling.CancelAsync();
        return new EconomyResult("Baseline: one context held for the whole job", Jobs, succeeded, wall, JobLength.TotalSeconds, timeouts,
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
