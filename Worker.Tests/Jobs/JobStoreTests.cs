using System.Text.Json;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Npgsql;

namespace JobWorker.Tests.Jobs;

/// <summary>The ledger's statements that are not outcomes, on the real database: accept, claim, leases, dispatch, cancel, the outbox.</summary>
public sealed class JobStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static JobStore Store => TestJobs.Store;

    private static async Task<NewJob> AcceptedAsync(int maxAttempts = 3, string queue = "")
    {
        var job = new NewJob(Guid.NewGuid(), "noop", """{"n": 1}""", maxAttempts, null, Guid.NewGuid(), Queue: queue);
        Assert.That(await Store.AcceptAsync(job, CancellationToken.None), Is.True, "a new job with no schedule is due at once");
        return job;
    }

    private static Task<Job?> ClaimAsync(Guid id, string owner, TimeSpan? lease = null, Guid? token = null) =>
        Store.ClaimAsync(id, owner, token ?? Guid.NewGuid(), lease ?? Lease, CancellationToken.None);

    [Test]
    public async Task Accept_is_idempotent_on_the_job_id()
    {
        var job = await AcceptedAsync();

        var again = await Store.AcceptAsync(job with { Type = "delay" }, CancellationToken.None);

        var row = await TestJobs.FindAsync(job.Id);
        Assert.That(again, Is.Null, "the second accept finds the row");
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Type, Is.EqualTo("noop"), "the second accept must not overwrite the first");
        Assert.That(row.Payload, Is.EqualTo("""{"n": 1}"""));
        Assert.That(row.DispatchedAt, Is.Not.Null, "a due job's own delivery is its dispatch");
    }

    [Test]
    public async Task A_scheduled_job_cannot_be_claimed_before_it_is_due()
    {
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Delay: TimeSpan.FromHours(1));

        var due = await Store.AcceptAsync(job, CancellationToken.None);
        var claim = await ClaimAsync(job.Id, "worker-a");

        var row = await TestJobs.FindAsync(job.Id);
        Assert.That(due, Is.False);
        Assert.That(claim, Is.Null);
        Assert.That(row!.RunAt, Is.GreaterThan(row.CreatedAt.AddMinutes(59)));
        Assert.That(row.DispatchedAt, Is.Null, "the dispatcher sends it when it is due");
    }

    [Test]
    public async Task Claim_runs_the_ledgers_payload_and_records_JobStarted()
    {
        var job = await AcceptedAsync();

        var claimed = await ClaimAsync(job.Id, "worker-a");

        Assert.That(claimed!.State, Is.EqualTo(JobState.Running));
        Assert.That(claimed.Attempt, Is.EqualTo(1));
        Assert.That(claimed.Owner, Is.EqualTo("worker-a"));
        Assert.That(claimed.Payload, Is.EqualTo("""{"n": 1}"""));
        Assert.That(claimed.LeaseExpiresAt, Is.GreaterThan(claimed.StartedAt!.Value));
        Assert.That(await TestJobs.EventsAsync(job.Id), Is.EqualTo(new[] { "Started@1" }));
    }

    [Test]
    public async Task Claim_refuses_a_job_another_worker_runs_even_under_a_lapsed_lease()
    {
        var running = await JobFactory.InsertAsync(JobState.Running, owner: "worker-a", leaseLeft: TimeSpan.FromSeconds(-1));

        var second = await ClaimAsync(running.Id, "worker-b");

        Assert.That(second, Is.Null, "a lapsed lease is the rescuer's to take back, not a claim's");
        Assert.That((await TestJobs.FindAsync(running.Id))!.Owner, Is.EqualTo("worker-a"));
    }

    [Test, Description("A claim whose reply was lost is found by its token, and its lease is extended, so it does not lapse while its owner runs it.")]
    public async Task A_claim_retried_after_its_reply_was_lost_finds_its_own_claim_and_extends_its_lease()
    {
        var job = await AcceptedAsync();
        var token = Guid.NewGuid();
        var first = await ClaimAsync(job.Id, "worker-a", lease: TimeSpan.FromSeconds(2), token: token);

        var retried = await ClaimAsync(job.Id, "worker-a", lease: TimeSpan.FromMinutes(10), token: token);
        var found = await Store.FindClaimAsync(job.Id, token, TimeSpan.FromMinutes(20), CancellationToken.None);
        var otherDelivery = await ClaimAsync(job.Id, "worker-a");

        Assert.That(retried?.Attempt, Is.EqualTo(1), "the same claim, not a second attempt");
        Assert.That(retried!.LeaseExpiresAt, Is.GreaterThan(first!.LeaseExpiresAt!.Value.AddMinutes(9)));
        Assert.That(found!.LeaseExpiresAt, Is.GreaterThan(first.LeaseExpiresAt!.Value.AddMinutes(19)));
        Assert.That(found.Payload, Is.EqualTo("""{"n": 1}"""));
        Assert.That(otherDelivery, Is.Null, "another delivery of the job in the same worker is not that claim");
        Assert.That(await TestJobs.EventsAsync(job.Id), Is.EqualTo(new[] { "Started@1" }));
    }

    [Test]
    public async Task Only_one_of_many_concurrent_claims_wins()
    {
        var job = await AcceptedAsync();

        var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => ClaimAsync(job.Id, $"worker-{i}")));

        Assert.That(claims.Count(c => c is not null), Is.EqualTo(1));
        Assert.That((await TestJobs.FindAsync(job.Id))!.Attempt, Is.EqualTo(1));
    }

    [Test]
    public async Task Renewing_extends_only_the_listed_attempts_of_the_owner_and_reports_a_requested_cancel()
    {
        var mine = await JobFactory.InsertAsync(JobState.Running, owner: "worker-renew", leaseLeft: TimeSpan.FromSeconds(5), cancelReason: "stop it");
        var mineButNotListed = await JobFactory.InsertAsync(JobState.Running, owner: "worker-renew", leaseLeft: TimeSpan.FromSeconds(5));
        var theirs = await JobFactory.InsertAsync(JobState.Running, owner: "worker-other", leaseLeft: TimeSpan.FromSeconds(5));
        var reclaimed = await JobFactory.InsertAsync(JobState.Running, owner: "worker-renew", attempt: 2, leaseLeft: TimeSpan.FromSeconds(5));

        var renewed = await Store.RenewLeasesAsync(
            "worker-renew", [(mine.Id, 1), (theirs.Id, 1), (reclaimed.Id, 1)], TimeSpan.FromMinutes(10), CancellationToken.None);

        Assert.That(renewed, Is.EqualTo(new[] { new LeaseRenewal(mine.Id, 1, "stop it") }),
            "the old attempt of a job claimed again here is not the current one: it is not kept alive");
        Assert.That((await TestJobs.FindAsync(mine.Id))!.LeaseExpiresAt, Is.GreaterThan(mine.LeaseExpiresAt!.Value.AddMinutes(5)));
        Assert.That((await TestJobs.FindAsync(mineButNotListed.Id))!.LeaseExpiresAt, Is.EqualTo(mineButNotListed.LeaseExpiresAt));
        Assert.That((await TestJobs.FindAsync(theirs.Id))!.LeaseExpiresAt, Is.EqualTo(theirs.LeaseExpiresAt));
        Assert.That((await TestJobs.FindAsync(reclaimed.Id))!.LeaseExpiresAt, Is.EqualTo(reclaimed.LeaseExpiresAt));
    }

    [Test]
    public async Task Dispatch_takes_each_due_job_of_its_queue_once_until_it_is_undispatched_or_its_message_is_overdue()
    {
        var queue = TestWorker.UniqueQueue();
        var due = await JobFactory.InsertAsync(queue: queue, payload: """{"big": "payload"}""");
        var scheduled = await JobFactory.InsertAsync(queue: queue, dueIn: TimeSpan.FromHours(1));
        var otherQueue = await JobFactory.InsertAsync(queue: TestWorker.UniqueQueue());

        var first = await Store.TakeDueAsync(queue, 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);
        var second = await Store.TakeDueAsync(queue, 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);
        await Store.UndispatchAsync([due.Id], CancellationToken.None);
        var afterUndispatch = await Store.TakeDueAsync(queue, 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);
        await TestJobs.ExecuteAsync("UPDATE jobs SET dispatched_at = now() - interval '10 minutes' WHERE id = $1", due.Id);
        var overdue = await Store.TakeDueAsync(queue, 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.That(first, Is.EqualTo(new[] { new DueJob(due.Id, "noop", 0) }), "its id and type only, and only this queue's due jobs");
        Assert.That(second, Is.Empty);
        Assert.That(afterUndispatch.Select(j => j.Id), Is.EqualTo(new[] { due.Id }));
        Assert.That(overdue.Select(j => j.Id), Is.EqualTo(new[] { due.Id }), "a message sent long ago and never claimed is sent again");
        Assert.That((await TestJobs.FindAsync(otherQueue.Id))!.DispatchedAt, Is.Null, "another deployment's job is its own dispatchers'");
        Assert.That((await TestJobs.FindAsync(scheduled.Id))!.DispatchedAt, Is.Null);
    }

    [Test, Description("Overdue messages belong to jobs due at least Dispatch:RedispatchAfter ago, so they go first; then unsent jobs in due order; never more than the batch.")]
    public async Task Dispatch_takes_the_longest_due_jobs_first_and_at_most_its_batch()
    {
        var queue = TestWorker.UniqueQueue();
        var unsent = await Task.WhenAll(new[] { -3, -1, -2 }.Select(minutes => JobFactory.InsertAsync(queue: queue, dueIn: TimeSpan.FromMinutes(minutes))));
        var sentLongAgo = await JobFactory.InsertAsync(queue: queue, dueIn: TimeSpan.FromMinutes(-40), dispatched: true);
        var sentAWhileAgo = await JobFactory.InsertAsync(queue: queue, dueIn: TimeSpan.FromMinutes(-30), dispatched: true);
        var sentJustNow = await JobFactory.InsertAsync(queue: queue, dueIn: TimeSpan.FromMinutes(-50), dispatched: true);
        await TestJobs.ExecuteAsync("UPDATE jobs SET dispatched_at = now() - interval '20 minutes' WHERE id = $1", sentLongAgo.Id);
        await TestJobs.ExecuteAsync("UPDATE jobs SET dispatched_at = now() - interval '10 minutes' WHERE id = $1", sentAWhileAgo.Id);

        var first = await Store.TakeDueAsync(queue, 3, TimeSpan.FromMinutes(5), CancellationToken.None);
        var second = await Store.TakeDueAsync(queue, 3, TimeSpan.FromMinutes(5), CancellationToken.None);
        var third = await Store.TakeDueAsync(queue, 3, TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.That(first.Select(j => j.Id), Is.EquivalentTo(new[] { sentLongAgo.Id, sentAWhileAgo.Id, unsent[0].Id }));
        Assert.That(second.Select(j => j.Id), Is.EquivalentTo(new[] { unsent[2].Id, unsent[1].Id }));
        Assert.That(third, Is.Empty, $"job {sentJustNow.Id}'s message is not overdue yet");
    }

    [Test, Description("SKIP LOCKED: replicas dispatching the same queue at once split its due jobs, sent or not, and none is taken twice.")]
    public async Task Concurrent_dispatchers_take_each_due_job_once()
    {
        var queue = TestWorker.UniqueQueue();
        await JobFactory.InsertBacklogAsync(queue, 400, TimeSpan.FromHours(1), "CASE WHEN i % 2 = 0 THEN now() - interval '10 minutes' END");

        var taken = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var mine = new List<Guid>();
            List<DueJob> batch;
            do
            {
                batch = await Store.TakeDueAsync(queue, 25, TimeSpan.FromMinutes(5), CancellationToken.None);
                mine.AddRange(batch.Select(j => j.Id));
            }
            while (batch.Count > 0 && mine.Count <= 400);
            return mine;
        })));

        var all = taken.SelectMany(ids => ids).ToList();
        Assert.That(all, Has.Count.EqualTo(400));
        Assert.That(all, Is.Unique);
    }

    [Test, Description("Sizing study: take-due read past every job already sent and waiting, on every replica, every tick: replicas x backlog x 0.6 us a second.")]
    public async Task Take_due_reads_no_job_that_is_sent_and_waiting()
    {
        const int Waiting = 20_000;
        var queue = TestWorker.UniqueQueue();
        var unsent = await JobFactory.InsertAsync(queue: queue, dueIn: TimeSpan.FromMinutes(-1));
        var overdue = await JobFactory.InsertAsync(queue: queue, dueIn: TimeSpan.FromMinutes(-30), dispatched: true);
        await TestJobs.ExecuteAsync("UPDATE jobs SET dispatched_at = now() - interval '10 minutes' WHERE id = $1", overdue.Id);
        await JobFactory.InsertBacklogAsync(queue, Waiting, TimeSpan.FromMinutes(2), "now()", analyze: true);
        try
        {
            var (taken, rowsRead) = await ExplainTakeDueAsync(queue, 500, genericPlan: false);

            Assert.That(taken, Is.EqualTo(2), $"jobs {unsent.Id} and {overdue.Id}, not the {Waiting} sent ones");
            Assert.That(rowsRead, Is.LessThan(100), $"rows of jobs read to take 2 of {Waiting + 2} Pending jobs");
        }
        finally
        {
            await TestJobs.ExecuteAsync($"DELETE FROM jobs WHERE queue = '{queue}'");
        }
    }

    [Test, Description("Npgsql prepares take-due, so PostgreSQL may plan it once for any batch size (a generic plan); joined to its batch, that plan read the whole table.")]
    public async Task Take_due_reads_only_what_it_takes_under_a_generic_plan()
    {
        var queue = TestWorker.UniqueQueue();
        await JobFactory.InsertBacklogAsync(queue, 20000, TimeSpan.FromMinutes(2), "CASE WHEN i % 10 = 0 THEN NULL ELSE now() END", analyze: true);
        try
        {
            var (taken, rowsRead) = await ExplainTakeDueAsync(queue, 500, genericPlan: true);

            Assert.That(taken, Is.EqualTo(500));
            Assert.That(rowsRead, Is.LessThan(1_500), "rows of jobs read to take a batch of 500: the batch's index range, then each row by id");
        }
        finally
        {
            await TestJobs.ExecuteAsync($"DELETE FROM jobs WHERE queue = '{queue}'");
        }
    }

    [Test, Description("A ledger of one job type, as many deployments have: the limited types were an array parameter, and the generic plan guessed from the one type that leaving them out kept almost no row, so it read every unsent due job of a priority (bitmap scan and sort) to take a batch: 2,500 rows for 500.")]
    public async Task Take_due_reads_only_what_it_takes_under_a_generic_plan_when_the_ledger_holds_one_job_type()
    {
        // A database of its own: the suite's holds many types, which hide the guess.
        var database = $"{TestEnvironment.DatabaseName}_one_type";
        var connectionString = await TestEnvironment.CreateMigratedDatabaseAsync(database);
        try
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var backlog = new NpgsqlCommand("""
                    INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, run_at, dispatched_at, created_at, updated_at)
                    SELECT gen_random_uuid(), 'noop', 'q', '{}', 'Pending', 0, 3, now() - interval '2 minutes',
                           CASE WHEN i % 10 = 0 THEN NULL ELSE now() END, now(), now()
                    FROM generate_series(1, 20000) i;
                    ANALYZE jobs;
                    """, connection);
                await backlog.ExecuteNonQueryAsync();
            }

            var (taken, rowsRead) = await ExplainTakeDueAsync("q", 500, genericPlan: true, connectionString);

            Assert.That(taken, Is.EqualTo(500));
            Assert.That(rowsRead, Is.LessThan(1_500), "rows of jobs read to take a batch of 500 of the 2,000 unsent");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await TestEnvironment.DropDatabaseAsync(database);
        }
    }

    [Test, Description("Unsent jobs go highest priority first, then by due time, read in the order of their index: a batch still reads only what it takes.")]
    public async Task Take_due_takes_highest_priority_first_reading_only_what_it_takes()
    {
        var queue = TestWorker.UniqueQueue();
        // 20,000 due jobs of priorities 0-9, one in ten unsent, due times spread so every priority has older and newer ones.
        await TestJobs.ExecuteAsync($"""
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, run_at, dispatched_at, created_at, updated_at, priority)
            SELECT gen_random_uuid(), 'noop', '{queue}', '{"{}"}', 'Pending', 0, 3, now() - (i % 997) * interval '1 second',
                   CASE WHEN i % 10 = 0 THEN NULL ELSE now() END, now(), now(), (i / 10) % 10
            FROM generate_series(1, 20000) i;
            INSERT INTO jobs (id, type, queue, payload, state, attempt, max_attempts, run_at, created_at, updated_at, priority)
            SELECT gen_random_uuid(), 'noop', '{queue}', '{"{}"}', 'Pending', 0, 3, now() + interval '1 day', now(), now(), 9
            FROM generate_series(1, 3000) i;
            ANALYZE jobs;
            """);
        try
        {
            // Besides, 3,000 priority-9 jobs scheduled for tomorrow, unsent: the take must not read them to reach the due ones.
            var (taken, rowsRead) = await ExplainTakeDueAsync(queue, 500, genericPlan: true);
            var first = await Store.TakeDueAsync(queue, 300, TimeSpan.FromMinutes(5), CancellationToken.None);
            var second = await Store.TakeDueAsync(queue, 100, TimeSpan.FromMinutes(5), CancellationToken.None);
            var runAt = (await TestJobs.LoadAsync([.. first.Concat(second).Select(j => j.Id)])).ToDictionary(r => r.Id, r => r.RunAt);

            Assert.That(taken, Is.EqualTo(500));
            Assert.That(rowsRead, Is.LessThan(1_500), "rows of jobs read to take a batch of 500 of mixed priorities");
            Assert.That(first.Select(j => j.Priority), Is.EquivalentTo(Enumerable.Repeat(9, 200).Concat(Enumerable.Repeat(8, 100))),
                "the 200 unsent priority-9 jobs, then 100 of priority 8");
            Assert.That(second.Select(j => j.Priority), Has.All.EqualTo(8));
            Assert.That(first.Where(j => j.Priority == 8).Max(j => runAt[j.Id]), Is.LessThanOrEqualTo(second.Min(j => runAt[j.Id])),
                "within a priority, the longest due first");
        }
        finally
        {
            await TestJobs.ExecuteAsync($"DELETE FROM jobs WHERE queue = '{queue}'");
        }
    }

    /// <summary>
    /// Runs take-due under EXPLAIN ANALYZE, rolled back: the rows it updated, and the rows of <c>jobs</c> its scans read
    /// (returned, or removed by a filter or a recheck), over all loops.
    /// </summary>
    private static async Task<(long Taken, long RowsRead)> ExplainTakeDueAsync(string queue, int batch, bool genericPlan, string? connectionString = null)
    {
        // Prepared by name, as Npgsql prepares it: a statement sent with parameters but unprepared (as EXPLAIN is) is
        // planned once for its values, always a custom plan, whatever plan_cache_mode says.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString ?? TestEnvironment.ConnectionString()) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var prepare = new NpgsqlCommand(
            $"SET LOCAL plan_cache_mode = {(genericPlan ? "force_generic_plan" : "force_custom_plan")}; " +
            $"PREPARE take_due (text, int, interval) AS {JobSql.TakeDue(["some-limited-type"])}", connection, transaction))
        {
            await prepare.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE take_due ('{queue}', {batch}, '5 minutes')", connection, transaction);
        var json = (string)(await command.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();

        var plan = JsonDocument.Parse(json).RootElement[0].GetProperty("Plan");
        return (plan.GetProperty("Actual Rows").GetInt64(), RowsRead(plan));

        static long RowsRead(JsonElement node)
        {
            long Count(string name) => node.TryGetProperty(name, out var value) ? value.GetInt64() : 0;
            var own = node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "jobs" && node.GetProperty("Node Type").GetString()!.Contains("Scan")
                ? (Count("Actual Rows") + Count("Rows Removed by Filter") + Count("Rows Removed by Index Recheck")) * Count("Actual Loops")
                : 0;
            return own + (node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().Sum(RowsRead) : 0);
        }
    }

    [Test]
    public async Task A_cancel_ends_a_pending_job_records_a_running_ones_request_leaves_a_tombstone_and_skips_a_finished_one()
    {
        var queue = TestWorker.UniqueQueue();
        var pending = await JobFactory.InsertAsync(queue: queue);
        var running = await JobFactory.InsertAsync(JobState.Running, queue: queue);
        var finished = await JobFactory.InsertAsync(JobState.Succeeded, queue: queue, attempt: 1);
        var unknown = Guid.NewGuid();

        var states = new[]
        {
            await Store.RequestCancelAsync(pending.Id, "no longer wanted", queue, CancellationToken.None),
            await Store.RequestCancelAsync(running.Id, "no longer wanted", queue, CancellationToken.None),
            await Store.RequestCancelAsync(finished.Id, "no longer wanted", queue, CancellationToken.None),
            await Store.RequestCancelAsync(unknown, "no longer wanted", queue, CancellationToken.None),
            await Store.RequestCancelAsync(pending.Id, "asked twice", queue, CancellationToken.None),
        };

        Assert.That(states, Is.EqualTo(new JobState?[] { JobState.Cancelled, JobState.Running, null, JobState.Cancelled, null }));
        Assert.That((await TestJobs.FindAsync(running.Id))!.CancelReason, Is.EqualTo("no longer wanted"));
        Assert.That(await TestJobs.EventsAsync(pending.Id), Is.EqualTo(new[] { "Cancelled@0" }), "exactly one JobCancelled");
        Assert.That(await TestJobs.EventsAsync(unknown), Is.EqualTo(new[] { "Cancelled@0" }));
        Assert.That((await TestJobs.FindAsync(unknown))!.Queue, Is.EqualTo(queue), "the tombstone is the cancelling deployment's, whose relay publishes its event");
        Assert.That(await ClaimAsync(unknown, "worker-a"), Is.Null, "the tombstone keeps a late SubmitJob from running");
    }

    [Test]
    public async Task Published_events_leave_the_outbox_for_the_history_and_unconfirmed_ones_of_the_queue_are_taken_again_after_their_retry_time()
    {
        var queue = TestWorker.UniqueQueue();
        var job = await AcceptedAsync(queue: queue);
        var claimed = (await ClaimAsync(job.Id, "worker-a"))!;
        var succeeded = (await TestJobs.ApplyAsync(TestJobs.Lifecycle.AfterRun(claimed, AttemptResult.Succeeded(null))))!.Event;
        await TestJobs.ExecuteAsync("UPDATE job_events SET relay_after = now() - interval '1 second' WHERE job_id = $1 AND kind = 'Started'", claimed.Id);

        var otherQueue = await Store.TakeUnpublishedEventsAsync(TestWorker.UniqueQueue(), 10_000, CancellationToken.None);
        var overdue = await Store.TakeUnpublishedEventsAsync(queue, 10_000, CancellationToken.None);
        var takenAgain = await Store.TakeUnpublishedEventsAsync(queue, 10_000, CancellationToken.None);
        await Store.MarkEventsPublishedAsync([succeeded], CancellationToken.None);

        Assert.That(otherQueue.Select(e => e.JobId), Does.Not.Contain(claimed.Id), "another deployment's relay leaves it alone");
        var started = overdue.Single(e => e.JobId == claimed.Id);
        Assert.That((started.Kind, started.WorkerId, started.JobType, started.Queue), Is.EqualTo(("Started", "worker-a", "noop", queue)));
        Assert.That(takenAgain.Select(e => e.JobId), Does.Not.Contain(claimed.Id), "taken events are the taker's until their retry time");
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Started@1" }));
        Assert.That(await TestJobs.HistoryAsync(claimed.Id), Is.EqualTo(new[] { "Started@1", "Succeeded@1" }));
    }

    [Test]
    public async Task Locate_reads_where_a_job_is_without_its_payload()
    {
        var running = await JobFactory.InsertAsync(JobState.Running, attempt: 2, owner: "worker-z");

        var located = await Store.LocateAsync(running.Id, CancellationToken.None);

        Assert.That(located, Is.EqualTo(new JobLocation(running.Id, "noop", JobState.Running, 2, 3, "worker-z", running.RunAt)));
        Assert.That(await Store.LocateAsync(Guid.NewGuid(), CancellationToken.None), Is.Null);
    }
    [Test, Description("Review finding: a SubmitJob of the same id as a row the client's transactional enqueue wrote claimed it before any dispatcher had checked it, so a job of a type nobody handles or beyond the limits could run.")]
    public async Task No_claim_takes_a_job_no_worker_has_checked_yet()
    {
        var job = await AcceptedAsync();
        await TestJobs.ExecuteAsync("UPDATE jobs SET unchecked = true WHERE id = $1", job.Id);

        var claimed = await ClaimAsync(job.Id, "worker-a");
        var (accepted, acceptClaimed) = await Store.AcceptAndClaimAsync(job, "worker-a", Guid.NewGuid(), Lease, CancellationToken.None);
        var limited = await Store.ClaimLimitedAsync(job.Id, new LimitRule("noop", 5, null, null), "worker-a", Guid.NewGuid(), Lease, CancellationToken.None);

        Assert.That((claimed, accepted, acceptClaimed, limited.Claimed, limited.Limit), Is.EqualTo(((Job?)null, false, (Job?)null, (Job?)null, (string?)null)));
        Assert.That(await Store.LocateAsync(job.Id, CancellationToken.None), Has.Property(nameof(JobLocation.State)).EqualTo(JobState.Pending)
            .And.Property(nameof(JobLocation.Unchecked)).True);
        await Store.MarkCheckedAsync([job.Id], CancellationToken.None);
        Assert.That(await ClaimAsync(job.Id, "worker-a"), Is.Not.Null, "once checked, it is claimed as any job");
    }

    [Test, Description("Review finding: two replicas deciding one unchecked row (one's handlers know its type, the other's do not) could both write: checked and sent by one, then Failed by the other. The first decision wins.")]
    public async Task The_first_decision_on_an_unchecked_job_wins()
    {
        var passed = await AcceptedAsync();
        var rejected = await AcceptedAsync();
        foreach (var id in new[] { passed.Id, rejected.Id })
        {
            await TestJobs.ExecuteAsync("UPDATE jobs SET unchecked = true WHERE id = $1", id);
        }

        // One replica checks `passed` first; the other, which read it before, rejects it. `rejected` goes the other way.
        var marked = await Store.MarkCheckedAsync([passed.Id], CancellationToken.None);
        var lateReject = await TestJobs.Completer.ApplyAsync(
            JobLifecycle.RejectEnqueued(passed.Id, "noop", "Unknown job type 'noop'.", JobState.Pending), CancellationToken.None);
        var reject = await TestJobs.Completer.ApplyAsync(
            JobLifecycle.RejectEnqueued(rejected.Id, "noop", "Unknown job type 'noop'.", JobState.Pending), CancellationToken.None);
        var lateMark = await Store.MarkCheckedAsync([rejected.Id], CancellationToken.None);

        Assert.That((marked.Count, lateReject, lateMark.Count), Is.EqualTo((1, (AppliedOutcome?)null, 0)));
        Assert.That(reject?.State, Is.EqualTo(JobState.Failed));
        var (stillPending, failed) = (await Store.LocateAsync(passed.Id, CancellationToken.None), await Store.LocateAsync(rejected.Id, CancellationToken.None));
        Assert.That((stillPending!.State, stillPending.Unchecked, failed!.State, failed.Unchecked),
            Is.EqualTo((JobState.Pending, false, JobState.Failed, false)));
    }

    [Test, Description("The accept step pages on (created_at, id): rows of one transaction share created_at, and a row a page leaves unchecked is not read again by the next page.")]
    public async Task Unchecked_jobs_are_read_in_pages_after_the_last_row_read()
    {
        var queue = TestWorker.UniqueQueue();
        var jobs = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => JobFactory.InsertAsync(queue: queue)));
        var ids = jobs.Select(j => j.Id).ToArray();
        var enqueuedAt = DateTime.UtcNow.AddMinutes(-1).ToString("O");
        foreach (var id in ids)
        {
            // As one transaction writes them: the same created_at.
            await TestJobs.ExecuteAsync($"UPDATE jobs SET unchecked = true, created_at = '{enqueuedAt}' WHERE id = $1", id);
        }

        var first = await Store.TakeUncheckedAsync(queue, 2, null, CancellationToken.None);
        var second = await Store.TakeUncheckedAsync(queue, 2, (first[^1].CreatedAt, first[^1].Id), CancellationToken.None);
        var third = await Store.TakeUncheckedAsync(queue, 2, (second[^1].CreatedAt, second[^1].Id), CancellationToken.None);

        Assert.That(first.Concat(second).Concat(third).Select(r => r.Id), Is.EqualTo(ids.Order()), "every row once, in id order within one created_at");
    }
}
