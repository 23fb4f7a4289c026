using JobWorker.Contracts;
using JobWorker.Messaging;
using MassTransit;

namespace JobWorker.Benchmarks;

/// <summary>
/// How long a priority-9 job waits behind a backlog of priority-0 noop jobs already in the queue: the backlog is
/// published first, one replica (the stock settings) starts draining it, and then one priority-9 and one priority-0 job
/// are published together, each with its AMQP priority. The wait is publish to start; the priority-0 one, queued behind
/// the whole backlog, is the contrast.
/// </summary>
internal static class PriorityScenario
{
    public static async Task<PriorityResult> RunAsync(int backlog, string connectionString, BenchSender sender, CancellationToken cancellationToken)
    {
        var queue = $"bench-{Guid.NewGuid():N}"[..18];
        var jobs = Enumerable.Range(0, backlog).Select(_ => new SubmitJob { JobId = NewId.NextGuid(), JobType = "noop" }).ToList();
        var endpoint = await sender.JobsQueueAsync(queue, cancellationToken);
        foreach (var chunk in jobs.Chunk(500))
        {
            await Task.WhenAll(chunk.Select(m => endpoint.Send(m, cancellationToken)));
        }

        await using var replica = await BenchWorkers.StartAsync(1, DrainScenario.WorkerSettings(queue, connectionString, new Dictionary<string, string>()), cancellationToken);
        var high = new SubmitJob { JobId = NewId.NextGuid(), JobType = "noop", Priority = 9 };
        var low = new SubmitJob { JobId = NewId.NextGuid(), JobType = "noop" };
        var publishedAt = DateTime.UtcNow;
        await Task.WhenAll(new[] { high, low }.Select(m => endpoint.Send(m, context => DurableQueues.Priority(context, m.Priority), cancellationToken)));

        var ids = jobs.Select(j => j.JobId).Append(high.JobId).Append(low.JobId).ToArray();
        await using var ledger = new BenchLedger(connectionString);
        await ledger.WaitUntilSucceededAsync(ids, TimeSpan.FromMinutes(10), cancellationToken);
        var started = await ledger.StartsAsync(ids, cancellationToken);
        var highStart = started[high.JobId];
        var lowStart = started[low.JobId];
        return new PriorityResult(
            backlog,
            (highStart - publishedAt).TotalMilliseconds,
            (lowStart - publishedAt).TotalMilliseconds,
            jobs.Count(j => started[j.JobId] > highStart));
    }
}
