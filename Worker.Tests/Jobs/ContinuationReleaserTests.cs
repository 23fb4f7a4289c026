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
        Assert.That(await TestJobs.Store.AcceptAwaitingAsync(child, CancellationToken.None), Is.Not.Null);
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

    [Test, Description("The releaser read the parent Failed; an operator retried it before the write: the child is not cancelled for a parent that is Pending again.")]
    public async Task A_parent_retried_between_the_read_and_the_write_does_not_cancel_the_child()
    {
        var queue = TestWorker.UniqueQueue();
        var parent = await JobFactory.InsertAsync(JobState.Failed, queue: queue, attempt: 1);
        var child = await AwaitingAsync(queue, afterAny: false, parent.Id);
        var read = await TestJobs.Store.AwaitingSweepAsync(queue, 10, null, CancellationToken.None);
        var decided = JobLifecycle.Continue(read.Single())!;
        await TestJobs.ExecuteAsync("UPDATE jobs SET state = 'Pending', finished_at = NULL WHERE id = $1", parent.Id);

        var applied = await TestJobs.ApplyAsync(decided);

        Assert.That(decided.Kind, Is.EqualTo(JobOutcomeKind.Cancelled));
        Assert.That(applied, Is.Null);
        Assert.That((await TestJobs.FindAsync(child))!.State, Is.EqualTo(JobState.Awaiting));
    }

    [Test, Description("Between sweeps a tick follows parents as they finish: a parent that finished now releases its child; one that finished long ago, unseen, waits for the sweep.")]
    public async Task A_tick_between_sweeps_releases_the_children_of_parents_that_finished_lately()
    {
        var queue = TestWorker.UniqueQueue();
        var lately = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var longAgo = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var ofLately = await AwaitingAsync(queue, afterAny: false, lately.Id);
        var ofLongAgo = await AwaitingAsync(queue, afterAny: false, longAgo.Id);
        var releaser = Releaser(queue);

        var onStart = await releaser.ReleaseAsync(CancellationToken.None);
        await TestJobs.ExecuteAsync("UPDATE jobs SET state = 'Succeeded', finished_at = now() WHERE id = $1", lately.Id);
        await TestJobs.ExecuteAsync("UPDATE jobs SET state = 'Succeeded', finished_at = now() - interval '1 hour' WHERE id = $1", longAgo.Id);
        var between = await releaser.ReleaseAsync(CancellationToken.None);

        Assert.That(onStart, Is.Zero, "both parents were running at the first sweep");
        Assert.That(between, Is.EqualTo(1));
        Assert.That((await TestJobs.FindAsync(ofLately))!.State, Is.EqualTo(JobState.Pending));
        Assert.That((await TestJobs.FindAsync(ofLongAgo))!.State, Is.EqualTo(JobState.Awaiting), "left to the sweep");
    }

    [Test, Description("A parent that finished while no releaser looked (beyond the recent window) is found by the sweep each releaser runs on start.")]
    public async Task The_sweep_on_start_releases_a_child_whose_parent_finished_while_no_releaser_looked()
    {
        var queue = TestWorker.UniqueQueue();
        var parent = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var child = await AwaitingAsync(queue, afterAny: false, parent.Id);
        await TestJobs.ExecuteAsync("UPDATE jobs SET state = 'Failed', finished_at = now() - interval '1 hour' WHERE id = $1", parent.Id);

        var released = await Releaser(queue).ReleaseAsync(CancellationToken.None);
        var row = (await TestJobs.FindAsync(child))!;

        Assert.That(released, Is.EqualTo(1));
        Assert.That((row.State, row.Error), Is.EqualTo((JobState.Cancelled, (string?)$"Parent job {parent.Id} ended Failed.")));
    }

    [Test, Description("The sweep pages through more held children than one page, releasing every ready one and no other.")]
    public async Task The_sweep_pages_through_every_held_child()
    {
        var queue = TestWorker.UniqueQueue();
        var done = await JobFactory.InsertAsync(JobState.Succeeded, queue: queue, attempt: 1);
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        await TestJobs.ExecuteAsync("UPDATE jobs SET finished_at = now() - interval '1 hour' WHERE id = $1", done.Id);
        await HoldAsync(queue, running.Id, 700);
        await HoldAsync(queue, done.Id, 600);

        var released = await Releaser(queue).ReleaseAsync(CancellationToken.None);

        Assert.That(released, Is.EqualTo(600));
        Assert.That(await CountAsync(queue, JobState.Awaiting), Is.EqualTo(700));
    }

    [Test, Description("What a child's parents say is read once, at accept: all finished and Succeeded, it can be released at once.")]
    public async Task Accept_reports_what_the_parents_say()
    {
        var queue = TestWorker.UniqueQueue();
        var succeeded = await JobFactory.InsertAsync(JobState.Succeeded, queue: queue, attempt: 1);
        var cancelled = await JobFactory.InsertAsync(JobState.Cancelled, queue: queue);
        var missing = Guid.NewGuid();

        var ready = await TestJobs.Store.AcceptAwaitingAsync(Child(queue, succeeded.Id), CancellationToken.None);
        var waiting = await TestJobs.Store.AcceptAwaitingAsync(Child(queue, succeeded.Id, missing), CancellationToken.None);
        var ended = await TestJobs.Store.AcceptAwaitingAsync(Child(queue, succeeded.Id, cancelled.Id, missing), CancellationToken.None);

        Assert.That((ready!.Unfinished, ready.EndedParent), Is.EqualTo((0, (Guid?)null)));
        Assert.That(waiting!.Unfinished, Is.EqualTo(1));
        Assert.That((ended!.Unfinished, ended.EndedParent, ended.EndedParentState), Is.EqualTo((1, (Guid?)cancelled.Id, (JobState?)JobState.Cancelled)));

        static NewJob Child(string queue, params Guid[] parents) => new(Guid.NewGuid(), "noop", "{}", 3, null, null, Queue: queue, After: parents);
    }

    [Test, Description("The releaser runs on every replica every second: with no held job in its queue, it reads no row of jobs, however large the backlog.")]
    public async Task Awaiting_recent_reads_no_job_when_none_is_held()
    {
        var queue = TestWorker.UniqueQueue();
        await JobFactory.InsertBacklogAsync(queue, 5_000, TimeSpan.FromMinutes(1), "now()", analyze: true);
        await TestJobs.ExecuteAsync($"UPDATE jobs SET state = 'Succeeded', finished_at = now() WHERE queue = '{queue}' AND random() < 0.2");
        try
        {
            // The gate finds no Awaiting job of this queue. By an index of Awaiting jobs: the planner may take either that
            // one or (state, created_at), which passes over other queues' held jobs (other tests' here); never the backlog.
            var heldElsewhere = await ScalarAsync("SELECT count(*) FROM jobs WHERE state = 'Awaiting'");
            var plan = await ExplainAsync(JobSql.AwaitingRecent, queue, 100, TimeSpan.FromSeconds(30));

            Assert.That(RowsRead(plan), Is.LessThanOrEqualTo(heldElsewhere));
            Assert.That(ScansOf(plan, "jobs"), Is.All.Not.EqualTo("Seq Scan"));
            Assert.That(LoopsOn(plan, "job_parents"), Is.Zero, "nothing past the gate runs");
        }
        finally
        {
            await TestJobs.ExecuteAsync($"DELETE FROM jobs WHERE queue = '{queue}'");
        }
    }

    [Test, Description(
        "2,000 children held on one running parent, and 50,000 job_parents rows of finished children (1-day retention keeps them): " +
        "a tick reads from the parents that finished lately, never all held children nor job_parents' history; a sweep page reads its own children's parents only.")]
    public async Task Awaiting_statements_stay_bounded_with_held_children_and_job_parents_history()
    {
        var queue = TestWorker.UniqueQueue();
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        await HoldAsync(queue, running.Id, 2_000);
        await TestJobs.ExecuteAsync($"""
            WITH parents AS (
                INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, run_at, created_at, started_at, finished_at, updated_at)
                SELECT gen_random_uuid(), 'noop', '{queue}', '{"{}"}', 'Succeeded', 1, 3, now(), now(), now(), now() - interval '2 hours', now()
                FROM generate_series(1, 5000)
                RETURNING id
            ), children AS (
                INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, run_at, created_at, started_at, finished_at, updated_at)
                SELECT gen_random_uuid(), 'noop', '{queue}', '{"{}"}', 'Succeeded', 1, 3, now(), now(), now(), now() - interval '1 hour', now()
                FROM generate_series(1, 50000)
                RETURNING id
            ), p AS (SELECT id, row_number() OVER () AS n FROM parents),
               c AS (SELECT id, row_number() OVER () AS n FROM children)
            INSERT INTO job_parents (job_id, parent_id) SELECT c.id, p.id FROM c JOIN p ON p.n = 1 + c.n % 5000;
            ANALYZE jobs;
            ANALYZE job_parents;
            """);
        try
        {
            // The tick's cost follows the jobs of any queue that finished within the window (other tests' too) and their
            // children: an index entry and a job_parents probe (2 or 3 pages) per parent, a primary-key lookup (4 pages)
            // per child. The old statement read every held child's parents (2,000 × 2 probes, over 10,000 pages) and
            // hashed job_parents whole.
            var finishedLately = await ScalarAsync("""
                SELECT count(*) + (SELECT count(*) FROM job_parents p JOIN jobs j ON j.id = p.parent_id WHERE j.finished_at > now() - interval '30 seconds')
                FROM jobs WHERE finished_at > now() - interval '30 seconds'
                """);
            var recent = await ExplainAsync(JobSql.AwaitingRecent, queue, 100, TimeSpan.FromSeconds(30));
            var sweep = await ExplainAsync(JobSql.AwaitingSweep, queue, 500, (DateTime?)null, (Guid?)null);

            Assert.That(Buffers(recent), Is.LessThan(50 + (5 * finishedLately)), $"{finishedLately} jobs finished within the window, and their children");
            Assert.That(ScansOf(recent, "job_parents"), Is.All.Not.EqualTo("Seq Scan"));
            Assert.That(recent.GetRawText(), Does.Not.Contain("\"Hash\""));

            // A page of 500 children: per child, its parents by key (~3 pages) and each parent's row (~3 pages).
            Assert.That(Buffers(sweep), Is.LessThan(500 * 10));
            Assert.That(ScansOf(sweep, "job_parents"), Is.All.Not.EqualTo("Seq Scan"));
            Assert.That(sweep.GetRawText(), Does.Not.Contain("\"Hash\""));
        }
        finally
        {
            await TestJobs.ExecuteAsync($"DELETE FROM jobs WHERE queue = '{queue}'");
        }
    }

    /// <summary><paramref name="count"/> Awaiting children of <paramref name="queue"/> held on <paramref name="parent"/>, in one statement.</summary>
    private static Task HoldAsync(string queue, Guid parent, int count) => TestJobs.ExecuteAsync($"""
        WITH held AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, after_any, run_at, created_at, updated_at)
            SELECT gen_random_uuid(), 'noop', '{queue}', '{"{}"}', 'Awaiting', 0, 3, false, now(), now() - i * interval '1 ms', now()
            FROM generate_series(1, {count}) i
            RETURNING id)
        INSERT INTO job_parents (job_id, parent_id) SELECT id, $1 FROM held
        """, parent);

    private static async Task<long> CountAsync(string queue, JobState state) =>
        await ScalarAsync($"SELECT count(*) FROM jobs WHERE queue = '{queue}' AND state = '{state}'");

    private static async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<JsonElement> ExplainAsync(string sql, params object?[] parameters)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(value switch
            {
                string text => new NpgsqlParameter<string> { TypedValue = text },
                int number => new NpgsqlParameter<int> { TypedValue = number },
                TimeSpan span => new NpgsqlParameter<TimeSpan> { TypedValue = span },
                DateTime time => new NpgsqlParameter<DateTime> { TypedValue = time },
                Guid id => new NpgsqlParameter<Guid> { TypedValue = id },
                _ => new NpgsqlParameter { Value = DBNull.Value },
            });
        }

        return JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!).RootElement[0].GetProperty("Plan");
    }

    /// <summary>Rows of <c>jobs</c> the plan read, over every node and loop.</summary>
    private static long RowsRead(JsonElement node)
    {
        long Count(string name) => node.TryGetProperty(name, out var value) ? value.GetInt64() : 0;
        var own = node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "jobs"
            ? (Count("Actual Rows") + Count("Rows Removed by Filter")) * Count("Actual Loops")
            : 0;
        return own + (node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().Sum(RowsRead) : 0);
    }

    /// <summary>How many times the plan's nodes that read <paramref name="relation"/> ran.</summary>
    private static long LoopsOn(JsonElement node, string relation) =>
        (node.TryGetProperty("Relation Name", out var name) && name.GetString() == relation ? node.GetProperty("Actual Loops").GetInt64() : 0)
        + (node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().Sum(c => LoopsOn(c, relation)) : 0);

    /// <summary>Pages the whole statement touched (the top node's counts include its children's).</summary>
    private static long Buffers(JsonElement plan) =>
        plan.GetProperty("Shared Hit Blocks").GetInt64() + plan.GetProperty("Shared Read Blocks").GetInt64();

    /// <summary>The node types that read <paramref name="relation"/>.</summary>
    private static List<string> ScansOf(JsonElement node, string relation)
    {
        var found = new List<string>();
        if (node.TryGetProperty("Relation Name", out var name) && name.GetString() == relation)
        {
            found.Add(node.GetProperty("Node Type").GetString()!);
        }

        if (node.TryGetProperty("Plans", out var children))
        {
            found.AddRange(children.EnumerateArray().SelectMany(c => ScansOf(c, relation)));
        }

        return found;
    }
}
