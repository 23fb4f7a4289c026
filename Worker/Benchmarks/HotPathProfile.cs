using Microsoft.Extensions.Hosting;
using System.Diagnostics;
using JobWorker.Contracts;
using MassTransit;

namespace JobWorker.Benchmarks;

/// <summary>
/// What one noop job costs the worker itself: jobs are published first, with no worker running, then a worker
/// in this process drains them; the allocations and CPU time of the drain, divided by the jobs, are the worker's.
/// </summary>
internal static class HotPathProfile
{
    public static async Task<ProfileResult> RunAsync(int jobs, string connectionString, BenchSender sender, CancellationToken cancellationToken)
    {
        var queue = $"bench-{Guid.NewGuid():N}"[..18];
        var messages = Enumerable.Range(0, jobs).Select(_ => new SubmitJob { JobId = NewId.NextGuid(), JobType = "noop" }).ToList();
        var endpoint = await sender.JobsQueueAsync(queue, cancellationToken);
        foreach (var chunk in messages.Chunk(200))
        {
            await Task.WhenAll(chunk.Select(m => endpoint.Send(m, cancellationToken)));
        }

        await using var app = BenchWorkers.InProcess(new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = connectionString,
            ["Jobs:QueueName"] = queue,
            ["Health:Port"] = "0",
            ["Telemetry:StatusInterval"] = "00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var process = Process.GetCurrentProcess();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = process.TotalProcessorTime;
        var gen0 = GC.CollectionCount(0);
        await using var ledger = new BenchLedger(connectionString);
        await app.StartAsync(cancellationToken);
        // The wait's own polls run in this process and count as the worker's: few of them (each reads all the ids), so the
        // figures stay the worker's; the drain ends idle, so the last poll's lateness adds little.
        await ledger.WaitUntilSucceededAsync([.. messages.Select(m => m.JobId)], TimeSpan.FromMinutes(5), cancellationToken, every: TimeSpan.FromMilliseconds(500));
        process.Refresh();
        var bytesPerJob = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)jobs;
        var cpuMsPerJob = (process.TotalProcessorTime - cpu).TotalMilliseconds / jobs;
        var collections = GC.CollectionCount(0) - gen0;
        await app.StopAsync(cancellationToken);
        return new ProfileResult(jobs, bytesPerJob / 1024, cpuMsPerJob, collections);
    }
}
