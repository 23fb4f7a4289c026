using JobWorker.Contracts;
using MassTransit;

namespace JobWorker.Benchmarks;

/// <summary>
/// A backlog drained by one replica: the jobs are published first, with no worker running, then one <c>jobworker run</c>
/// process starts and runs them all. The rate is the jobs over the time from the first <c>created_at</c> (the replica
/// accepting its first job) to the last <c>finished_at</c>, so the publisher's cost on the shared cores is not counted
/// as the worker's.
/// </summary>
internal static class DrainScenario
{
    /// <param name="ideal">The best possible time for the backlog (e.g. slots × job length), or null for noop jobs.</param>
    public static async Task<DrainResult> RunAsync(string name, int jobs, Func<SubmitJob> job, TimeSpan? ideal, string connectionString,
        BenchSender sender, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var queue = $"bench-{Guid.NewGuid():N}"[..18];
        var messages = Enumerable.Range(0, jobs).Select(_ => job()).ToList();

        // Declare the queue (and its binding) first: a send to a queue nobody declared yet would be dropped.
        await using (var declare = await BenchWorkers.StartAsync(1, WorkerSettings(queue, connectionString, settings), cancellationToken))
        {
        }

        var endpoint = await sender.JobsQueueAsync(queue, cancellationToken);
        foreach (var chunk in messages.Chunk(500))
        {
            await Task.WhenAll(chunk.Select(m => endpoint.Send(m, cancellationToken)));
        }

        await using var replica = await BenchWorkers.StartAsync(1, WorkerSettings(queue, connectionString, settings), cancellationToken);
        var cpuBefore = replica.CpuSeconds;
        var ids = messages.Select(m => m.JobId).ToArray();
        await using var ledger = new BenchLedger(connectionString);
        await ledger.WaitUntilSucceededAsync(ids, TimeSpan.FromMinutes(10), cancellationToken);
        var cpuMsPerJob = (replica.CpuSeconds - cpuBefore) * 1000 / jobs;
        var peak = replica.PeakWorkingSetMb;

        // From the first job accepted to the last one finished, by the database's clock.
        var times = (await ledger.TimesAsync(ids, cancellationToken)).Values;
        var seconds = (times.Max(t => t.FinishedAt!.Value) - times.Min(t => t.CreatedAt)).TotalSeconds;
        return new DrainResult(name, jobs, seconds, jobs / seconds, ideal?.TotalSeconds, cpuMsPerJob, peak);
    }

    internal static Dictionary<string, string> WorkerSettings(string queue, string connectionString, IReadOnlyDictionary<string, string> settings)
    {
        var all = new Dictionary<string, string>
        {
            ["Database__ConnectionString"] = connectionString,
            ["Jobs__QueueName"] = queue,
            ["Health__Port"] = "0",
            ["Telemetry__StatusInterval"] = "00:00:00",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_GCgen0size"] = "0x400000", // as the container image runs it (see Dockerfile)
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return all;
    }
}
