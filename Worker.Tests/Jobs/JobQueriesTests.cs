using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Jobs;

/// <summary>
/// The reads behind the dashboard and <c>jobs list</c>, and the filtered bulk retry, on the real database. They run in
/// a database of their own, so counts over the whole table are exact.
/// </summary>
[NonParallelizable]
public sealed class JobQueriesTests
{
    private static readonly string Database = $"{TestEnvironment.DatabaseName}_queries";
    private static readonly DateTime Base = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
    private string _connectionString = "";
    private JobQueries _queries = null!;
    private JobStore _store = null!;
    private JobCompleter _completer = null!;

    [OneTimeSetUp]
    public async Task CreateDatabase()
    {
        _connectionString = await TestEnvironment.CreateMigratedDatabaseAsync(Database);
        var contexts = TestEnvironment.CreateContextFactory(_connectionString);

        _queries = new JobQueries(contexts);
        _store = new JobStore(contexts, TransitionResilience.None, Options.Create(new DispatchOptions()));
        _completer = new JobCompleter(_store, Options.Create(new JobOptions()), Options.Create(new ResilienceOptions()), NullLogger<JobCompleter>.Instance);
    }

    [OneTimeTearDown]
    public async Task DropDatabase()
    {
        NpgsqlConnection.ClearAllPools();
        await TestEnvironment.DropDatabaseAsync(Database);
    }

    [SetUp]
    public Task EmptyTables() => ExecuteAsync("TRUNCATE jobs, job_events, job_parents, workers");

    [Test]
    public async Task The_list_is_newest_first_and_its_pages_follow_on_without_gaps_or_repeats()
    {
        // 23 jobs, three of them created in the same microsecond: the id breaks the tie.
        var ids = new List<(DateTime At, Guid Id)>();
        for (var i = 0; i < 23; i++)
        {
            var at = i < 3 ? Base : Base.AddSeconds(i);
            ids.Add((at, await InsertAsync("noop", JobState.Succeeded, createdAt: at)));
        }

        var pages = new List<List<JobSummary>>();
        JobCursor? before = null;
        do
        {
            pages.Add(await _queries.ListAsync(JobFilter.All, before, 10, CancellationToken.None));
            before = pages[^1].Count == 10 ? pages[^1][^1].Cursor : null;
        }
        while (before is not null);

        var expected = ids.OrderByDescending(j => j.At).ThenByDescending(j => j.Id).Select(j => j.Id).ToList();
        Assert.That(pages.Select(p => p.Count), Is.EqualTo(new[] { 10, 10, 3 }));
        Assert.That(pages.SelectMany(p => p).Select(j => j.Id), Is.EqualTo(expected));
    }

    [Test, Description("Three jobs share a due time, so the id breaks ties; a Running job has no due time and is left out.")]
    public async Task The_list_by_due_time_holds_Pending_jobs_soonest_first_and_its_pages_follow_on_without_gaps_or_repeats()
    {
        var ids = new List<(DateTime At, Guid Id)>();
        for (var i = 0; i < 23; i++)
        {
            var at = i < 3 ? Base : Base.AddSeconds(-i);
            ids.Add((at.AddDays(1), await InsertAsync("noop", JobState.Pending, createdAt: at, attempt: 0)));
        }

        await InsertAsync("noop", JobState.Running, createdAt: Base);
        await ExecuteAsync("UPDATE jobs SET run_at = created_at + interval '1 day' WHERE state = 'Pending'");

        var pages = new List<List<JobSummary>>();
        JobCursor? after = null;
        do
        {
            pages.Add(await _queries.ListAsync(JobFilter.All, after, 10, CancellationToken.None, JobOrder.DueSoonest));
            after = pages[^1].Count == 10 ? pages[^1][^1].CursorIn(JobOrder.DueSoonest) : null;
        }
        while (after is not null);

        var expected = ids.OrderBy(j => j.At).ThenBy(j => j.Id).Select(j => j.Id).ToList();
        Assert.That(pages.Select(p => p.Count), Is.EqualTo(new[] { 10, 10, 3 }));
        Assert.That(pages.SelectMany(p => p).Select(j => j.Id), Is.EqualTo(expected));
        Assert.That(await _queries.ListAsync(new JobFilter { State = JobState.Failed }, null, 10, CancellationToken.None, JobOrder.DueSoonest), Is.Empty);
    }

    [Test]
    public async Task Each_filter_keeps_exactly_the_jobs_it_names()
    {
        var failedTimeout = await InsertAsync("resize", JobState.Failed, error: "Timed out after 00:05:00", owner: "replica-a", createdAt: Base);
        var failedLiteral = await InsertAsync("resize", JobState.Failed, error: "disk 100% full_now", owner: "replica-b", createdAt: Base.AddHours(1));
        var succeeded = await InsertAsync("resize", JobState.Succeeded, owner: "replica-a", createdAt: Base.AddHours(2));
        var otherType = await InsertAsync("email", JobState.Failed, error: "TIMED OUT talking to smtp", createdAt: Base.AddHours(3));

        Assert.Multiple(async () =>
        {
            Assert.That(await IdsAsync(new JobFilter { State = JobState.Failed }), Is.EquivalentTo(new[] { failedTimeout, failedLiteral, otherType }));
            Assert.That(await IdsAsync(new JobFilter { Type = "resize" }), Is.EquivalentTo(new[] { failedTimeout, failedLiteral, succeeded }));
            Assert.That(await IdsAsync(new JobFilter { ErrorContains = "timed out" }), Is.EquivalentTo(new[] { failedTimeout, otherType }), "case-insensitive");
            Assert.That(await IdsAsync(new JobFilter { ErrorContains = "100% full_" }), Is.EqualTo(new[] { failedLiteral }), "% and _ are literal text");
            Assert.That(await IdsAsync(new JobFilter { ErrorContains = "0%" }), Is.EqualTo(new[] { failedLiteral }));
            Assert.That(await IdsAsync(new JobFilter { Owner = "replica-a" }), Is.EquivalentTo(new[] { failedTimeout, succeeded }));
            Assert.That(await IdsAsync(new JobFilter { CreatedFrom = Base.AddHours(1), CreatedTo = Base.AddHours(3) }), Is.EquivalentTo(new[] { failedLiteral, succeeded }),
                "from is inclusive, to exclusive");
            Assert.That(await IdsAsync(new JobFilter { State = JobState.Failed, Type = "resize", ErrorContains = "timed" }), Is.EqualTo(new[] { failedTimeout }));
        });
    }

    [Test]
    public async Task A_list_row_carries_no_payload_and_at_most_a_preview_of_the_error()
    {
        var id = await InsertAsync("noop", JobState.Failed, error: new string('x', 5_000));

        var row = (await _queries.ListAsync(JobFilter.All, null, 10, CancellationToken.None)).Single();
        var job = await _queries.FindAsync(id, CancellationToken.None);

        Assert.That(row.Error, Has.Length.EqualTo(JobQueries.ErrorPreviewLength));
        Assert.That(job!.Error, Has.Length.EqualTo(5_000), "the job's own page shows all of it");
    }

    [Test]
    public async Task Retrying_the_failed_jobs_of_a_filter_requeues_those_and_only_those()
    {
        var matching = await InsertAsync("resize", JobState.Failed, error: "Timed out", attempt: 3, maxAttempts: 3);
        var otherError = await InsertAsync("resize", JobState.Failed, error: "bad input");
        var notFailed = await InsertAsync("resize", JobState.Succeeded, error: "Timed out earlier, then fine");

        var outcome = await new JobControl(_store, _completer, Options.Create(new JobOptions())).RetryMatchingAsync(new JobFilter { State = JobState.Failed, Type = "resize", ErrorContains = "timed out" }, 2, CancellationToken.None);

        var requeued = await _queries.FindAsync(matching, CancellationToken.None);
        Assert.That(outcome.Applied, Is.True);
        Assert.That(outcome.Message, Does.StartWith("1 failed job(s)"));
        Assert.That(requeued!.State, Is.EqualTo(JobState.Pending));
        Assert.That(requeued.MaxAttempts, Is.EqualTo(5), "two more attempts than it has used");
        Assert.That(requeued.Error, Is.Null);
        Assert.That(requeued.RunAt, Is.EqualTo(requeued.UpdatedAt), "due now, by the database's clock");
        Assert.That((await _queries.FindAsync(otherError, CancellationToken.None))!.State, Is.EqualTo(JobState.Failed));
        Assert.That((await _queries.FindAsync(notFailed, CancellationToken.None))!.State, Is.EqualTo(JobState.Succeeded));
    }

    [Test]
    public async Task Counts_cover_every_state_and_count_succeeded_jobs_over_the_window_only()
    {
        await InsertAsync("noop", JobState.Succeeded);
        await InsertAsync("noop", JobState.Succeeded);
        await InsertAsync("noop", JobState.Succeeded, createdAt: DateTime.UtcNow.AddDays(-2));
        await InsertAsync("noop", JobState.Failed, createdAt: DateTime.UtcNow.AddDays(-2));
        await InsertAsync("noop", JobState.Failed);
        await InsertAsync("noop", JobState.Awaiting);

        var counts = await _queries.CountByStateAsync(TimeSpan.FromHours(24), CancellationToken.None);

        Assert.That(counts, Is.EqualTo(new Dictionary<JobState, long>
        {
            [JobState.Awaiting] = 1, [JobState.Pending] = 0, [JobState.Running] = 0, [JobState.Succeeded] = 2, [JobState.Failed] = 2, [JobState.Cancelled] = 0,
        }), "the Succeeded job that finished two days ago is outside the window; Failed counts all of them");
    }

    [Test]
    public async Task Finished_jobs_are_counted_in_the_minute_they_finished_and_quiet_minutes_are_zeros()
    {
        await ExecuteAsync("""
            INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, created_at, updated_at, finished_at)
            SELECT gen_random_uuid(), 'noop', '{}', s, 1, 1, now(), now(), date_trunc('minute', now()) - interval '5 minutes' + interval '10 seconds'
            FROM unnest(ARRAY['Succeeded', 'Succeeded', 'Failed', 'Cancelled']) AS s;
            INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, created_at, updated_at, finished_at)
            VALUES (gen_random_uuid(), 'noop', '{}', 'Succeeded', 1, 1, now(), now(), now() - interval '2 hours');
            """);

        var minutes = await _queries.FinishedPerMinuteAsync(TimeSpan.FromMinutes(59), CancellationToken.None);

        Assert.That(minutes, Has.Count.EqualTo(60));
        Assert.That(minutes.Zip(minutes.Skip(1)).All(p => p.Second.Minute - p.First.Minute == TimeSpan.FromMinutes(1)), Is.True, "one bucket per minute, oldest first");
        var busy = minutes[^6];
        Assert.That((busy.Succeeded, busy.Failed), Is.EqualTo((2L, 1L)), "Cancelled is neither");
        Assert.That(minutes.Sum(m => m.Succeeded + m.Failed), Is.EqualTo(3), "the job that finished two hours ago is outside the window");
    }

    [Test]
    public async Task Due_soon_lists_only_scheduled_jobs_soonest_first()
    {
        await ExecuteAsync("""
            INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, created_at, updated_at, run_at) VALUES
              ('00000000-0000-0000-0000-000000000002', 'later', '{}', 'Pending', 0, 3, now(), now(), now() + interval '2 hours'),
              ('00000000-0000-0000-0000-000000000001', 'sooner', '{}', 'Pending', 0, 3, now(), now(), now() + interval '5 minutes'),
              ('00000000-0000-0000-0000-000000000003', 'due-now', '{}', 'Pending', 0, 3, now(), now(), now() - interval '1 second'),
              ('00000000-0000-0000-0000-000000000004', 'finished', '{}', 'Cancelled', 0, 3, now(), now(), now() + interval '1 hour');
            """);

        var due = await _queries.DueSoonAsync(10, CancellationToken.None);

        Assert.That(due.Select(j => j.Type), Is.EqualTo(new[] { "sooner", "later" }));
    }

    [Test]
    public async Task A_replica_is_seen_through_its_heartbeat_with_the_jobs_the_ledger_says_it_runs_and_marked_when_it_stops()
    {
        var options = Options.Create(new JobOptions { QueueName = "q", ConcurrentJobs = 4 });
        var slots = new JobSlots(options);
        var worker = new WorkerIdentity(options);
        var heartbeat = new ReplicaHeartbeat(TestEnvironment.CreateContextFactory(_connectionString), slots, worker, options, NullLogger<ReplicaHeartbeat>.Instance);
        using var slot = await slots.TakeAsync(CancellationToken.None);
        await InsertAsync("noop", JobState.Running, owner: worker.Id);
        await InsertAsync("noop", JobState.Running, owner: "someone-else");
        await InsertAsync("noop", JobState.Succeeded, owner: worker.Id);

        await heartbeat.BeatAsync(stopped: false, CancellationToken.None);
        var alive = (await _queries.ReplicasAsync(TimeSpan.FromHours(1), CancellationToken.None)).Single();
        await heartbeat.BeatAsync(stopped: true, CancellationToken.None);
        var stopped = (await _queries.ReplicasAsync(TimeSpan.FromHours(1), CancellationToken.None)).Single();

        Assert.That((alive.Id, alive.Queue, alive.Slots, alive.Busy, alive.Running), Is.EqualTo((worker.Id, "q", 4, 1, 1)));
        Assert.That(alive.StoppedAt, Is.Null);
        Assert.That(alive.Now - alive.LastSeenAt, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(stopped.StoppedAt, Is.Not.Null);
    }

    [Test]
    public async Task Published_events_stay_as_the_jobs_history_in_the_order_they_happened()
    {
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null);
        await _store.AcceptAsync(job, CancellationToken.None);
        var claimed = (await _store.ClaimAsync(job.Id, "replica-a", Guid.NewGuid(), TimeSpan.FromSeconds(30), CancellationToken.None))!;
        var lifecycle = new JobLifecycle(Options.Create(new RetryOptions { BaseDelay = TimeSpan.Zero }));
        var failed = (await _completer.ApplyAsync(lifecycle.AfterRun(claimed, AttemptResult.Failed("boom", retryable: true)), CancellationToken.None))!.Event;
        var again = (await _store.ClaimAsync(job.Id, "replica-b", Guid.NewGuid(), TimeSpan.FromSeconds(30), CancellationToken.None))!;
        var succeeded = (await _completer.ApplyAsync(lifecycle.AfterRun(again, AttemptResult.Succeeded(null)), CancellationToken.None))!.Event;
        await _store.MarkEventsPublishedAsync([failed!, succeeded!], CancellationToken.None);

        var history = await _queries.HistoryAsync(job.Id, CancellationToken.None);

        Assert.That(history.Select(e => $"{e.Kind}@{e.Attempt}"), Is.EqualTo(new[] { "Started@1", "Retrying@1", "Started@2", "Succeeded@2" }));
        Assert.That(history.Where(e => e.Kind == JobEventKind.Started).Select(e => e.WorkerId), Is.EqualTo(new[] { "replica-a", "replica-b" }));
        Assert.That(history.Single(e => e.Kind == JobEventKind.Retrying).Error, Is.EqualTo("boom"));
        Assert.That(history.Where(e => e.PublishedAt is not null).Select(e => e.Kind), Is.EquivalentTo(new[] { JobEventKind.Retrying, JobEventKind.Succeeded }));
        Assert.That(await _store.TakeUnpublishedEventsAsync("", 100, CancellationToken.None), Has.None.Matches<OutboxEvent>(e => e.Kind is "Retrying" or "Succeeded"),
            "a published event is history, not outbox");
    }

    [Test]
    public async Task On_a_realistic_ledger_each_dashboard_query_is_planned_through_its_index()
    {
        await Benchmarks.DashboardScenario.SeedAsync(_connectionString, 20_000, CancellationToken.None);
        var queries = new Dictionary<string, string>
        {
            ["SELECT id FROM jobs WHERE state = 'Failed' ORDER BY created_at DESC, id DESC LIMIT 50"] = "ix_jobs_state_created_at",
            ["SELECT id FROM jobs WHERE type = 'report' ORDER BY created_at DESC, id DESC LIMIT 50"] = "ix_jobs_type_created_at",
            ["SELECT id FROM jobs WHERE state = 'Succeeded' AND (created_at, id) < (now() - interval '3 days', gen_random_uuid()) ORDER BY created_at DESC, id DESC LIMIT 50"] = "ix_jobs_state_created_at",
            ["SELECT id FROM jobs WHERE error IS NOT NULL AND error ILIKE '%quota exceeded%' ORDER BY created_at DESC, id DESC LIMIT 50"] = "ix_jobs_error_trgm",
            ["SELECT count(*) FROM jobs WHERE finished_at >= now() - interval '1 hour' AND state = 'Succeeded'"] = "ix_jobs_finished_at",
            ["SELECT count(*) FROM jobs WHERE state = 'Failed'"] = "ix_jobs_state_created_at",
            ["SELECT id FROM jobs WHERE state = 'Pending' AND dispatched_at IS NULL AND run_at > now() ORDER BY run_at LIMIT 10"] = "ix_jobs_unsent_queue_priority_run_at",
        };

        var plans = new Dictionary<string, string>();
        foreach (var query in queries.Keys)
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var explain = new NpgsqlCommand($"EXPLAIN {query}", connection);
            plans[query] = string.Join("\n", await ReadAllAsync(explain));
        }

        Assert.Multiple(() =>
        {
            foreach (var (query, index) in queries)
            {
                Assert.That(plans[query], Does.Contain(index).And.Not.Contain("Seq Scan"), query);
            }
        });
    }

    private async Task<List<Guid>> IdsAsync(JobFilter filter) =>
        [.. (await _queries.ListAsync(filter, null, 100, CancellationToken.None)).Select(j => j.Id)];

    private async Task<Guid> InsertAsync(
        string type, JobState state, string? error = null, string? owner = null, DateTime? createdAt = null, int attempt = 1, int maxAttempts = 3)
    {
        var id = Guid.NewGuid();
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO jobs (id, type, payload, state, attempt, max_attempts, error, owner, created_at, updated_at, finished_at)
            VALUES ($1, $2, '{"n": 1}', $3, $4, $5, $6, $7, $8, $8, CASE WHEN $3 IN ('Succeeded', 'Failed', 'Cancelled') THEN $8 END)
            """, connection)
        {
            Parameters =
            {
                new() { Value = id }, new() { Value = type }, new() { Value = state.ToString() }, new() { Value = attempt },
                new() { Value = maxAttempts }, new() { Value = (object?)error ?? DBNull.Value }, new() { Value = (object?)owner ?? DBNull.Value },
                new() { Value = createdAt ?? DateTime.UtcNow },
            },
        };
        await command.ExecuteNonQueryAsync();
        return id;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> ReadAllAsync(NpgsqlCommand command)
    {
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return lines;
    }
}
