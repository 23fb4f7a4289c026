using System.Text.Json;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Jobs;

/// <summary>The continuation releaser on the real database, each test in a queue of its own.</summary>
public sealed class ContinuationReleaserTests
{
    /// <summary>A releaser with a writer of its own, as each replica has.</summary>
    private static ContinuationReleaser Releaser(string queue, int batchSize = 100) => new(
        TestJobs.Store,
        new JobCompleter(TestJobs.Store, Options.Create(new JobOptions()), Options.Create(new ResilienceOptions()), NullLogger<JobCompleter>.Instance),
        Options.Create(new ContinuationOptions { BatchSize = batchSize }), Options.Create(new JobOptions { QueueName = queue }),
        NullLogger<ContinuationReleaser>.Instance);

    private static async Task<Guid> AwaitingAsync(string queue, bool afterAny, params Guid[] parents)
    {
        var child = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Queue: queue, After: parents, AfterAny: afterAny);
        Assert.That(await TestJobs.Store.AcceptAwaitingAsync(child, CancellationToken.None), Is.True);
        return child.Id;
    }

    [Test, Description("Four replicas' releasers tick at once over 60 ready children: each child is released once, with one Continued event.")]
    public async Task Concurrent_releasers_release_each_child_exactly_once()
    {
        var queue = TestWorker.UniqueQueue();
        var parent = await JobFactory.InsertAsync(JobState.Succeeded, queue: queue, attempt: 1);
        var children = new List<Guid>();
        for (var i = 0; i < 60; i++)
        {
            children.Add(await AwaitingAsync(queue, afterAny: false, parent.Id));
        }

        var released = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Releaser(queue, batchSize: 7).ReleaseAsync(CancellationToken.None)));
        var rows = await TestJobs.LoadAsync(children);

        Assert.That(released.Sum(), Is.EqualTo(60), $"applied per releaser: {string.Join(", ", released)}");
        Assert.That(rows.Select(r => r.State), Is.All.EqualTo(JobState.Pending));
        foreach (var child in children)
        {
            Assert.That(await TestJobs.HistoryAsync(child), Is.EqualTo(new[] { "Continued@0" }));
        }
    }

    [Test, Description("The oldest held children wait on a parent still running; a newer child whose parent finished is still found, not starved behind them.")]
    public async Task A_ready_child_is_released_behind_a_full_batch_of_children_still_waiting()
    {
        var queue = TestWorker.UniqueQueue();
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var done = await JobFactory.InsertAsync(JobState.Succeeded, queue: queue, attempt: 1);
        var waiting = new List<Guid>();
        for (var i = 0; i < 25; i++)
        {
            waiting.Add(await AwaitingAsync(queue, afterAny: false, running.Id, done.Id));
        }

        var ready = await AwaitingAsync(queue, afterAny: false, done.Id);

        var released = await Releaser(queue, batchSize: 10).ReleaseAsync(CancellationToken.None);

        Assert.That(released, Is.EqualTo(1));
        Assert.That((await TestJobs.FindAsync(ready))!.State, Is.EqualTo(JobState.Pending));
        Assert.That((await TestJobs.LoadAsync(waiting)).Select(j => j.State), Is.All.EqualTo(JobState.Awaiting));
    }

    [Test]
    public async Task A_cancelled_parent_cancels_the_child_with_its_event_and_any_outcome_releases_it()
    {
        var queue = TestWorker.UniqueQueue();
        var cancelled = await JobFactory.InsertAsync(JobState.Cancelled, queue: queue);
        var strict = await AwaitingAsync(queue, afterAny: false, cancelled.Id);
        var lenient = await AwaitingAsync(queue, afterAny: true, cancelled.Id);

        await Releaser(queue).ReleaseAsync(CancellationToken.None);
        var strictRow = (await TestJobs.FindAsync(strict))!;

        Assert.That((strictRow.State, strictRow.Error), Is.EqualTo((JobState.Cancelled, (string?)$"Parent job {cancelled.Id} ended Cancelled.")));
        Assert.That(strictRow.FinishedAt, Is.Not.Null);
        Assert.That(await TestJobs.EventsAsync(strict), Is.EqualTo(new[] { "Cancelled@0" }), "JobCancelled waits in the outbox for the relay");
        Assert.That((await TestJobs.FindAsync(lenient))!.State, Is.EqualTo(JobState.Pending));
    }

    [Test, Description("The releaser runs on every replica every second: with no held job in its queue, it reads no row of jobs, however large the backlog.")]
    public async Task Awaiting_ready_reads_no_job_when_none_is_held()
    {
        var queue = TestWorker.UniqueQueue();
        await JobFactory.InsertBacklogAsync(queue, 5_000, TimeSpan.FromMinutes(1), "now()", analyze: true);
        try
        {
            await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + JobSql.AwaitingReady, connection)
            {
                Parameters = { new NpgsqlParameter<string> { TypedValue = queue }, new NpgsqlParameter<int> { TypedValue = 100 } },
            };
            var plan = JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!).RootElement[0].GetProperty("Plan");

            Assert.That(RowsRead(plan), Is.Zero);
            Assert.That(plan.GetRawText(), Does.Contain("ix_jobs_awaiting_queue_created_at"));
        }
        finally
        {
            await TestJobs.ExecuteAsync($"DELETE FROM jobs WHERE queue = '{queue}'");
        }

        static long RowsRead(JsonElement node)
        {
            long Count(string name) => node.TryGetProperty(name, out var value) ? value.GetInt64() : 0;
            var own = node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "jobs"
                ? (Count("Actual Rows") + Count("Rows Removed by Filter")) * Count("Actual Loops")
                : 0;
            return own + (node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().Sum(RowsRead) : 0);
        }
    }
}
