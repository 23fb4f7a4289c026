using System.Collections.Concurrent;
using System.Diagnostics;
using JobWorker.Contracts;
using MassTransit;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>Noop jobs end to end: published by a client, run by worker processes, measured until Succeeded.</summary>
internal static class ThroughputScenario
{
    public static async Task<ThroughputResult> RunAsync(
        int workers, int jobs, string connectionString, BenchSender sender, double ceiling, CancellationToken cancellationToken)
    {
        var queue = $"bench-{Guid.NewGuid():N}"[..18];
        await using var replicas = await BenchWorkers.StartAsync(workers, new Dictionary<string, string>
        {
            ["Database__ConnectionString"] = connectionString,
            ["Jobs__QueueName"] = queue,
            ["Health__Port"] = "0",
            ["Telemetry__StatusInterval"] = "00:00:00",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_GCgen0size"] = "0x400000", // as the container image runs it (see Dockerfile)
        }, cancellationToken);

        var messages = Enumerable.Range(0, jobs).Select(_ => new SubmitJob { JobId = NewId.NextGuid(), JobType = "noop" }).ToList();
        var sent = new ConcurrentDictionary<Guid, DateTime>();
        var endpoint = await sender.JobsQueueAsync(queue, cancellationToken);
        var cpuBefore = replicas.CpuSeconds;
        var commitsBefore = await CommittedTransactionsAsync(connectionString, cancellationToken);
        var started = DateTime.UtcNow;
        foreach (var chunk in messages.Chunk(200))
        {
            await Task.WhenAll(chunk.Select(m =>
            {
                sent[m.JobId] = DateTime.UtcNow;
                return endpoint.Send(m, cancellationToken);
            }));
        }

        var finished = await WaitForFinishedAsync(connectionString, [.. sent.Keys], TimeSpan.FromMinutes(5), cancellationToken);
        var cpuMsPerJob = (replicas.CpuSeconds - cpuBefore) * 1000 / jobs;
        var transactionsPerJob = (await CommittedTransactionsAsync(connectionString, cancellationToken) - commitsBefore) / (double)jobs;
        var latencies = finished.Select(f => (f.Value - sent[f.Key]).TotalMilliseconds).ToList();
        var seconds = (finished.Values.Max() - started).TotalSeconds;
        return new ThroughputResult(workers, jobs, seconds, jobs / seconds, BenchMath.Percentile(latencies, 50), BenchMath.Percentile(latencies, 99),
            jobs / seconds / ceiling, replicas.PeakWorkingSetMb, cpuMsPerJob, transactionsPerJob);
    }

    /// <summary>Transactions committed in the bench database so far (pg_stat_database; includes the bench's own polling).</summary>
    private static async Task<long> CommittedTransactionsAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_stat_force_next_flush(); SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0);
    }

    /// <summary>Waits until every job is Succeeded and returns when each finished (the database's clock).</summary>
    public static async Task<Dictionary<Guid, DateTime>> WaitForFinishedAsync(string connectionString, Guid[] ids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var ledger = new BenchLedger(connectionString);
        await ledger.WaitUntilSucceededAsync(ids, timeout, cancellationToken);
        return (await ledger.TimesAsync(ids, cancellationToken)).ToDictionary(t => t.Key, t => t.Value.FinishedAt!.Value);
    }
}
