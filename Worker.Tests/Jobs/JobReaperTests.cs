using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>The reaper on the real database, scoped to a queue of its own so it never touches another test's rows.</summary>
public sealed class JobReaperTests
{
    private static JobReaper Reaper(string queue, RetentionOptions? retention = null) => new(
        TestJobs.Store, Options.Create(retention ?? new RetentionOptions()), Options.Create(new JobOptions { QueueName = queue }),
        NullLogger<JobReaper>.Instance);

    [Test, Description("Defaults: Succeeded kept 1 day, Failed and Cancelled 14 days; each job's events go with it.")]
    public async Task Reaper_deletes_finished_jobs_past_their_retention_with_their_events()
    {
        var queue = TestWorker.UniqueQueue();
        var oldSucceeded = await FinishedAsync(queue, JobState.Succeeded, TimeSpan.FromDays(2));
        var oldFailed = await FinishedAsync(queue, JobState.Failed, TimeSpan.FromDays(15));
        var oldCancelled = await FinishedAsync(queue, JobState.Cancelled, TimeSpan.FromDays(15));

        var deleted = await Reaper(queue).ReapAsync(CancellationToken.None);

        Assert.That(deleted, Is.EqualTo(3));
        Assert.That(await TestJobs.LoadAsync([oldSucceeded, oldFailed, oldCancelled]), Is.Empty);
        Assert.That(await TestJobs.HistoryAsync(oldSucceeded), Is.Empty, "events cascade with their job");
        Assert.That(await TestJobs.HistoryAsync(oldFailed), Is.Empty);
    }

    [Test, Description("Recent finished jobs, and every unfinished one (even with a stale finished_at from an earlier attempt), stay.")]
    public async Task Reaper_keeps_recent_finished_jobs_and_unfinished_ones()
    {
        var queue = TestWorker.UniqueQueue();
        var kept = new List<Guid>
        {
            await FinishedAsync(queue, JobState.Succeeded, TimeSpan.FromHours(23)),
            await FinishedAsync(queue, JobState.Failed, TimeSpan.FromDays(13)),
            await FinishedAsync(queue, JobState.Cancelled, TimeSpan.FromDays(13)),
            await FinishedAsync(queue, JobState.Pending, TimeSpan.FromDays(30)),
            await FinishedAsync(queue, JobState.Running, TimeSpan.FromDays(30)),
            (await JobFactory.InsertAsync(JobState.Pending, queue: queue, dueIn: TimeSpan.FromHours(1))).Id,
        };

        var deleted = await Reaper(queue).ReapAsync(CancellationToken.None);

        Assert.That(deleted, Is.Zero);
        Assert.That(await TestJobs.LoadAsync(kept), Has.Count.EqualTo(kept.Count));
        Assert.That(await TestJobs.HistoryAsync(kept[0]), Is.Not.Empty);
    }

    [Test]
    public async Task Reaper_leaves_another_queues_jobs_alone()
    {
        var queue = TestWorker.UniqueQueue();
        var other = await FinishedAsync(TestWorker.UniqueQueue(), JobState.Succeeded, TimeSpan.FromDays(30));

        await Reaper(queue).ReapAsync(CancellationToken.None);

        Assert.That(await TestJobs.LoadAsync([other]), Has.Count.EqualTo(1), "another deployment's jobs follow its own retention");
    }

    [Test]
    public async Task Reaper_keeps_a_state_for_ever_when_its_retention_is_zero()
    {
        var queue = TestWorker.UniqueQueue();
        var succeeded = await FinishedAsync(queue, JobState.Succeeded, TimeSpan.FromDays(3000));
        var failed = await FinishedAsync(queue, JobState.Failed, TimeSpan.FromDays(3000));

        var deleted = await Reaper(queue, new RetentionOptions { Succeeded = TimeSpan.Zero }).ReapAsync(CancellationToken.None);

        Assert.That(deleted, Is.EqualTo(1));
        Assert.That((await TestJobs.LoadAsync([succeeded, failed])).Select(j => j.Id), Is.EqualTo(new[] { succeeded }));
    }

    [Test, Description("A backlog drains over several ticks, never more than MaxBatchesPerTick batches per state in one.")]
    public async Task Reaper_deletes_at_most_its_batches_per_tick()
    {
        var queue = TestWorker.UniqueQueue();
        await InsertFinishedAsync(queue, JobState.Succeeded, 7, TimeSpan.FromDays(2));
        var reaper = Reaper(queue, new RetentionOptions { BatchSize = 2, MaxBatchesPerTick = 2 });

        var first = await reaper.ReapAsync(CancellationToken.None);
        var second = await reaper.ReapAsync(CancellationToken.None);
        var third = await reaper.ReapAsync(CancellationToken.None);

        Assert.That(new[] { first, second, third }, Is.EqualTo(new[] { 4, 3, 0 }));
    }

    [Test, Description("Replicas reap with no leader: batches skip the rows another holds, so each job is deleted once, with no error.")]
    public async Task Two_reapers_at_once_delete_each_job_once()
    {
        var queue = TestWorker.UniqueQueue();
        await InsertFinishedAsync(queue, JobState.Succeeded, 2000, TimeSpan.FromDays(2));
        var settings = new RetentionOptions { BatchSize = 50, MaxBatchesPerTick = 1000 };

        var deleted = await Task.WhenAll(Reaper(queue, settings).ReapAsync(CancellationToken.None), Reaper(queue, settings).ReapAsync(CancellationToken.None))
            .WaitAsync(TimeSpan.FromMinutes(1));

        Assert.That(deleted.Sum(), Is.EqualTo(2000));
        Assert.That(await CountAsync(queue), Is.Zero);
    }

    [Test, Description("jobs purge shares the reaper's batched delete: a purge larger than a batch goes on until nothing is left.")]
    public async Task Purge_deletes_in_batches_until_none_is_left()
    {
        var queue = TestWorker.UniqueQueue();
        await InsertFinishedAsync(queue, JobState.Failed, 5, TimeSpan.FromDays(10));
        var recent = await FinishedAsync(queue, JobState.Failed, TimeSpan.FromDays(1));

        var deleted = await TestJobs.Store.PurgeFinishedAsync(TimeSpan.FromDays(7), CancellationToken.None, batchSize: 2);

        Assert.That(deleted, Is.GreaterThanOrEqualTo(5));
        Assert.That(await CountAsync(queue), Is.EqualTo(1));
        Assert.That(await TestJobs.LoadAsync([recent]), Has.Count.EqualTo(1));
    }

    [Test, Description("A child held for two parents still needs the first's outcome after retention's age: it stays until the child is released.")]
    public async Task Reaper_keeps_a_finished_parent_that_an_Awaiting_child_still_needs()
    {
        var queue = TestWorker.UniqueQueue();
        var done = await FinishedAsync(queue, JobState.Succeeded, TimeSpan.FromDays(2));
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var child = await AwaitingAsync(queue, done, running.Id);

        var whileHeld = await Reaper(queue).ReapAsync(CancellationToken.None);
        await TestJobs.ExecuteAsync("UPDATE jobs SET state = 'Succeeded', finished_at = now() WHERE id = $1", running.Id);
        var released = await Releaser(queue).ReleaseAsync(CancellationToken.None);
        var afterRelease = await Reaper(queue).ReapAsync(CancellationToken.None);

        Assert.That(whileHeld, Is.Zero, "the parent the held child needs stays");
        Assert.That(released, Is.EqualTo(1));
        Assert.That((await TestJobs.FindAsync(child))!.State, Is.EqualTo(JobState.Pending));
        Assert.That(afterRelease, Is.EqualTo(1), "once the child is released, the parent follows its retention");
        Assert.That(await TestJobs.LoadAsync([done]), Is.Empty);
    }

    [Test, Description("The held-child check reads job_parents by key, never a scan of it: the batch never grows with job_parents' history.")]
    public async Task Reap_reads_job_parents_by_index_only()
    {
        var queue = TestWorker.UniqueQueue();
        await InsertFinishedAsync(queue, JobState.Succeeded, 3000, TimeSpan.FromDays(2));
        await TestJobs.ExecuteAsync($"""
            INSERT INTO job_parents (job_id, parent_id) SELECT id, gen_random_uuid() FROM jobs WHERE queue = '{queue}';
            ANALYZE jobs;
            ANALYZE job_parents;
            """);
        await using var connection = new Npgsql.NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new Npgsql.NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + JobSql.ReapFinished, connection, transaction)
        {
            Parameters =
            {
                new Npgsql.NpgsqlParameter<string> { TypedValue = queue }, new Npgsql.NpgsqlParameter<string> { TypedValue = "Succeeded" },
                new Npgsql.NpgsqlParameter<TimeSpan> { TypedValue = TimeSpan.FromDays(1) }, new Npgsql.NpgsqlParameter<int> { TypedValue = 1000 },
            },
        };
        var plan = (string)(await command.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();

        // Per candidate, by parent: never hashed whole, which on a table this small the planner would otherwise prefer.
        var root = System.Text.Json.JsonDocument.Parse(plan).RootElement[0].GetProperty("Plan");
        Assert.That(ScansOf(root, "job_parents"), Is.Not.Empty.And.All.Not.EqualTo("Seq Scan"), plan);
        Assert.That(plan, Does.Contain("ix_job_parents_parent_id"));
    }

    private static List<string> ScansOf(System.Text.Json.JsonElement node, string relation)
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

    [Test, Description("jobs purge keeps a finished parent an Awaiting child still needs, as the reaper does.")]
    public async Task Purge_keeps_a_finished_parent_that_an_Awaiting_child_still_needs()
    {
        var queue = TestWorker.UniqueQueue();
        var done = await FinishedAsync(queue, JobState.Failed, TimeSpan.FromDays(10));
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        await AwaitingAsync(queue, done, running.Id);

        await TestJobs.Store.PurgeFinishedAsync(TimeSpan.FromDays(7), CancellationToken.None, batchSize: 2);

        Assert.That(await TestJobs.LoadAsync([done]), Has.Count.EqualTo(1));
    }

    [TestCase("Succeeded", "00:00:10")]
    [TestCase("Failed", "3651.00:00:00")]
    [TestCase("Cancelled", "-00:01:00")]
    public void Retention_out_of_range_fails_validation_naming_the_setting(string key, string value)
    {
        using var services = Compose(new() { [$"Retention:{key}"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<RetentionOptions>>().Value);

        Assert.That(error!.Message, Does.Contain($"Retention:{key} must be 0 (keep for ever) or between 1 min and 3650 days"));
    }

    [Test]
    public void Retention_of_zero_or_in_range_is_accepted()
    {
        using var services = Compose(new() { ["Retention:Succeeded"] = "0", ["Retention:Failed"] = "00:01:00", ["Retention:Cancelled"] = "3650.00:00:00" });

        var retention = services.GetRequiredService<IOptions<RetentionOptions>>().Value;

        Assert.That(retention.Limits().Select(l => l.State), Is.EqualTo(new[] { JobState.Failed, JobState.Cancelled }), "0 keeps Succeeded jobs for ever");
    }

    [Test, Description("Every replica runs the reaper; readiness names it, and a failing one only degrades.")]
    public async Task Reaper_is_a_maintenance_duty_that_only_degrades_readiness()
    {
        await using var services = Compose(new() { ["Database:ConnectionString"] = TestEnvironment.ConnectionString() });

        var reaper = services.GetServices<MaintenanceService>().SingleOrDefault(d => d.Name == "reaper");

        Assert.That(reaper, Is.InstanceOf<JobReaper>());
        Assert.That(reaper!.Critical, Is.False);
        Assert.That(reaper.Interval, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    private static ServiceProvider Compose(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddJobWorker();
        return (ServiceProvider)builder.Services.BuildServiceProvider();
    }

    private static ContinuationReleaser Releaser(string queue) => new(
        TestJobs.Store, TestJobs.Completer, Options.Create(new ContinuationOptions()), Options.Create(new JobOptions { QueueName = queue }),
        NullLogger<ContinuationReleaser>.Instance);

    private static async Task<Guid> AwaitingAsync(string queue, params Guid[] parents)
    {
        var child = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Queue: queue, After: parents);
        Assert.That(await TestJobs.Store.AcceptAwaitingAsync(child, CancellationToken.None), Is.Not.Null);
        return child.Id;
    }

    /// <summary>One job of <paramref name="queue"/> in <paramref name="state"/> that finished <paramref name="ago"/>, with two events.</summary>
    private static async Task<Guid> FinishedAsync(string queue, JobState state, TimeSpan ago)
    {
        var job = await JobFactory.InsertAsync(state, queue: queue);
        await TestJobs.ExecuteAsync($"""
            UPDATE jobs SET finished_at = now() - interval '{(long)ago.TotalSeconds} seconds' WHERE id = $1;
            """, job.Id);
        await TestJobs.ExecuteAsync("""
            INSERT INTO job_events (job_id, kind, attempt, will_retry, occurred_at, relay_after)
            VALUES ($1, 'Started', 1, false, now(), now()), ($1, 'Succeeded', 1, false, now(), now())
            """, job.Id);
        return job.Id;
    }

    private static Task InsertFinishedAsync(string queue, JobState state, int count, TimeSpan ago) => TestJobs.ExecuteAsync($"""
        WITH j AS (
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, run_at, created_at, started_at, finished_at, updated_at)
            SELECT gen_random_uuid(), 'noop', '{queue}', '{"{}"}', '{state}', 1, 3, now(), now(), now(), now() - interval '{(long)ago.TotalSeconds} seconds', now()
            FROM generate_series(1, {count})
            RETURNING id)
        INSERT INTO job_events (job_id, kind, attempt, will_retry, occurred_at, relay_after)
        SELECT id, k, 1, false, now(), now() FROM j CROSS JOIN (VALUES ('Started'), ('Succeeded')) e(k)
        """);

    private static async Task<long> CountAsync(string queue)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM jobs WHERE queue = $1", connection) { Parameters = { new() { Value = queue } } };
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
