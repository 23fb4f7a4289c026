using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>The dispatcher on the real database, with a broker that fails as the test says, scoped to a queue of its own.</summary>
public sealed class JobDispatcherTests
{
    private sealed class Broker(Func<DueJob, CancellationToken, Task> send) : IJobBroker
    {
        public List<Guid> Sent { get; } = [];

        public TimeSpan CallBound => TimeSpan.FromSeconds(1);

        public async Task SendAsync(DueJob job, CancellationToken cancellationToken)
        {
            await send(job, cancellationToken);
            lock (Sent)
            {
                Sent.Add(job.Id);
            }
        }

        public Task PublishAsync(OutboxEvent recorded, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PublishCancelAsync(Guid jobId, string reason, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static JobDispatcher Dispatcher(string queue, IJobBroker broker, int batchSize = 500, JobLimitsOptions? limits = null)
    {
        var dispatch = Options.Create(new DispatchOptions { BatchSize = batchSize });
        var jobs = Options.Create(new JobOptions { QueueName = queue });
        var acceptor = new EnqueuedJobAcceptor(
            TestJobs.Store, TestJobs.Completer, new JobHandlerCatalog([new JobHandlerRegistration(RecordingJobHandler.JobType)]),
            Options.Create(new SubmissionOptions()), dispatch, jobs, NullLogger<EnqueuedJobAcceptor>.Instance);
        return new(TestJobs.Store, broker, dispatch, jobs, NullLogger<JobDispatcher>.Instance, Options.Create(limits ?? new JobLimitsOptions()), new DutyWake(), acceptor);
    }

    private static JobLimitsOptions Limits(string type, int concurrency)
    {
        var limits = new JobLimitsOptions();
        limits.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{JobLimitsOptions.Section}:{type}:Concurrency"] = $"{concurrency}" })
            .Build().GetSection(JobLimitsOptions.Section));
        Assert.That(limits.Problems, Is.Empty);
        return limits;
    }

    private static async Task<DateTime?> DispatchedAtAsync(Guid id) => (await TestJobs.FindAsync(id))!.DispatchedAt;

    [Test, Description("One job that cannot be sent is marked unsent on its own; the rest of its batch goes.")]
    public async Task A_job_that_cannot_be_sent_is_tried_again_later_and_never_holds_up_the_others()
    {
        var queue = TestWorker.UniqueQueue();
        var jobs = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => JobFactory.InsertAsync(queue: queue)));
        var broker = new Broker((job, _) => job.Id == jobs[2].Id ? throw new InvalidOperationException("message too large") : Task.CompletedTask);

        var sent = await Dispatcher(queue, broker).DispatchDueAsync(CancellationToken.None);

        Assert.That(sent, Is.EqualTo(4));
        Assert.That(broker.Sent, Is.EquivalentTo(jobs.Where((_, i) => i != 2).Select(j => j.Id)));
        Assert.That(await DispatchedAtAsync(jobs[2].Id), Is.Null, "marked unsent: the next tick tries it again");
        Assert.That(await DispatchedAtAsync(jobs[0].Id), Is.Not.Null);
    }

    [Test, Description("Overdue messages fill whole batches first; the tick goes on taking batches until one is short, so the unsent jobs behind them go in the same tick.")]
    public async Task A_tick_sends_every_overdue_and_unsent_job_however_many_batches_they_fill()
    {
        var queue = TestWorker.UniqueQueue();
        await JobFactory.InsertBacklogAsync(queue, 170, TimeSpan.FromHours(1), "CASE WHEN i <= 120 THEN now() - interval '10 minutes' END");
        var broker = new Broker((_, _) => Task.CompletedTask);

        var sent = await Dispatcher(queue, broker, batchSize: 50).DispatchDueAsync(CancellationToken.None);

        Assert.That(sent, Is.EqualTo(170));
        Assert.That(broker.Sent, Is.Unique);
        Assert.That(await Dispatcher(queue, broker, batchSize: 50).DispatchDueAsync(CancellationToken.None), Is.Zero, "every message is fresh now");
    }

    [Test, Description("Review finding: the limited takes ran only after the ordinary loop had sent every full batch, so a large ordinary backlog held a limited type back for the whole tick.")]
    public async Task A_limited_type_is_sent_before_a_full_ordinary_backlog()
    {
        var queue = TestWorker.UniqueQueue();
        var type = $"limited-{Guid.NewGuid():N}";
        await JobFactory.InsertBacklogAsync(queue, 120, TimeSpan.FromMinutes(1), "NULL");
        var limited = await JobFactory.InsertAsync(queue: queue, type: type);
        var broker = new Broker((_, _) => Task.CompletedTask);

        var sent = await Dispatcher(queue, broker, batchSize: 50, limits: Limits(type, 1)).DispatchDueAsync(CancellationToken.None);

        Assert.That(sent, Is.EqualTo(121));
        Assert.That(broker.Sent.IndexOf(limited.Id), Is.Zero, "the limited take goes before the first ordinary batch");
    }

    [Test, Description("A limited batch that cannot be sent fails the tick, but only after the ordinary jobs went.")]
    public async Task A_limited_batch_that_cannot_be_sent_does_not_hold_up_the_ordinary_jobs()
    {
        var queue = TestWorker.UniqueQueue();
        var type = $"limited-{Guid.NewGuid():N}";
        var ordinary = await JobFactory.InsertAsync(queue: queue);
        var limited = await JobFactory.InsertAsync(queue: queue, type: type);
        var broker = new Broker((job, _) => job.Id == limited.Id ? throw new InvalidOperationException("refused") : Task.CompletedTask);

        Assert.That(async () => await Dispatcher(queue, broker, limits: Limits(type, 1)).DispatchDueAsync(CancellationToken.None),
            Throws.InvalidOperationException.With.Message.Contains("refused"));

        Assert.That(broker.Sent, Is.EqualTo(new[] { ordinary.Id }));
        Assert.That(await DispatchedAtAsync(limited.Id), Is.Null);
    }

    [Test, Description("Rows the client's transactional enqueue wrote: never taken unchecked; the tick checks them first, sends the one that passes and fails the others with the reason, an unreadable one included, without holding up the rest.")]
    public async Task A_tick_checks_jobs_enqueued_in_a_transaction_before_it_sends_any()
    {
        var queue = TestWorker.UniqueQueue();
        var good = await EnqueuedAsync(queue, RecordingJobHandler.JobType);
        var unknown = await EnqueuedAsync(queue, "no-such-type");
        var odd = await EnqueuedAsync(queue, RecordingJobHandler.JobType);
        await TestJobs.ExecuteAsync("UPDATE jobs SET timeout = interval '1 month' WHERE id = $1", odd);
        Assert.That(await TestJobs.Store.TakeDueAsync(queue, 10, TimeSpan.FromMinutes(5), CancellationToken.None), Is.Empty, "taken unchecked");
        var broker = new Broker((_, _) => Task.CompletedTask);

        var sent = await Dispatcher(queue, broker).DispatchDueAsync(CancellationToken.None);

        Assert.That((sent, broker.Sent), Is.EqualTo((1, new List<Guid> { good })));
        Assert.That(await StateAsync(good), Is.EqualTo("Pending, checked: "));
        Assert.That(await StateAsync(unknown), Does.StartWith("Failed, checked: Unknown job type 'no-such-type'. This worker handles: record."));
        Assert.That(await StateAsync(odd), Does.StartWith("Failed, checked: The job's row could not be read: "));
    }

    [Test, Description("A job cancelled before any dispatcher checked it (a CancelJob needs no check) stays Cancelled, and leaves the unchecked rows, so no later tick reads it again.")]
    public async Task A_tick_leaves_a_job_cancelled_before_its_check_as_it_is()
    {
        var queue = TestWorker.UniqueQueue();
        var cancelled = await EnqueuedAsync(queue, "no-such-type");
        await TestJobs.ExecuteAsync("UPDATE jobs SET state = 'Cancelled', error = 'changed my mind', finished_at = now() WHERE id = $1", cancelled);

        await Dispatcher(queue, new Broker((_, _) => Task.CompletedTask)).DispatchDueAsync(CancellationToken.None);

        Assert.That(await StateAsync(cancelled), Is.EqualTo("Cancelled, checked: changed my mind"));
    }

    [Test, Description("A stopping replica sends the jobs it released within its drain step's bound: it leaves the checks to the replicas that go on.")]
    public async Task A_dispatch_without_the_check_step_sends_only_checked_jobs_and_leaves_the_rest_unchecked()
    {
        var queue = TestWorker.UniqueQueue();
        var released = await JobFactory.InsertAsync(queue: queue);
        var enqueued = await EnqueuedAsync(queue, RecordingJobHandler.JobType);
        var broker = new Broker((_, _) => Task.CompletedTask);

        await Dispatcher(queue, broker).DispatchDueAsync(CancellationToken.None, checkEnqueued: false);

        Assert.That(broker.Sent, Is.EqualTo(new[] { released.Id }));
        Assert.That(await StateAsync(enqueued), Is.EqualTo("Pending, unchecked: "));
    }

    [Test, Description("Review finding: rows whose rejection the database will not write stay unchecked; a tick reads at most ten pages, and began again from the oldest, so ten pages of them kept every newer job from ever being checked.")]
    public async Task Jobs_behind_ten_pages_of_rows_left_unchecked_are_checked_at_a_later_tick()
    {
        var queue = TestWorker.UniqueQueue();
        var refused = $"{queue}-refused";
        var stuck = new List<Guid>();
        for (var i = 0; i < 11; i++)
        {
            stuck.Add(await EnqueuedAsync(queue, refused));
            await TestJobs.ExecuteAsync($"UPDATE jobs SET created_at = now() - interval '{60 - i} seconds' WHERE id = $1", stuck[^1]);
        }

        var good = await EnqueuedAsync(queue, RecordingJobHandler.JobType);
        await TestJobs.ExecuteAsync("""
            CREATE OR REPLACE FUNCTION test_refuse_job() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '23514'; END $$
            """);
        await TestJobs.ExecuteAsync($"""CREATE TRIGGER "{refused}" BEFORE UPDATE ON jobs FOR EACH ROW WHEN (NEW.type = '{refused}' AND NEW.state = 'Failed') EXECUTE FUNCTION test_refuse_job()""");
        try
        {
            var broker = new Broker((_, _) => Task.CompletedTask);
            var dispatcher = Dispatcher(queue, broker, batchSize: 1);

            await dispatcher.DispatchDueAsync(CancellationToken.None);
            var afterFirst = await StateAsync(good);
            await dispatcher.DispatchDueAsync(CancellationToken.None);

            Assert.That(afterFirst, Is.EqualTo("Pending, unchecked: "), "ten pages of one row each, all refused");
            Assert.That(broker.Sent, Is.EqualTo(new[] { good }), "the second tick goes on past them");
            Assert.That(await Task.WhenAll(stuck.Select(StateAsync)), Is.All.EqualTo("Pending, unchecked: "), "never sent");
        }
        finally
        {
            await TestJobs.ExecuteAsync($"""DROP TRIGGER "{refused}" ON jobs""");
        }
    }

    /// <summary>A due Pending job as the client's transactional enqueue writes it: unchecked.</summary>
    private static async Task<Guid> EnqueuedAsync(string queue, string type)
    {
        var job = await JobFactory.InsertAsync(queue: queue, type: type);
        await TestJobs.ExecuteAsync("UPDATE jobs SET unchecked = true WHERE id = $1", job.Id);
        return job.Id;
    }

    /// <summary>"state, checked: error", read by SQL: a row with a value the worker cannot read would fail EF's read.</summary>
    private static async Task<string?> StateAsync(Guid id)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT state || CASE WHEN unchecked THEN ', unchecked: ' ELSE ', checked: ' END || coalesce(error, '') FROM jobs WHERE id = $1", connection)
        {
            Parameters = { new() { Value = id } },
        };
        return (string?)await command.ExecuteScalarAsync();
    }

    [Test, Description("Review finding: a dispatch cut short by its bound (the drain's step) left its jobs marked sent with no message.")]
    public async Task A_dispatch_cut_short_by_its_callers_bound_unmarks_what_it_did_not_send()
    {
        var queue = TestWorker.UniqueQueue();
        var stuck = await JobFactory.InsertAsync(queue: queue);
        var broker = new Broker((_, ct) => Task.Delay(Timeout.Infinite, ct));
        using var bound = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        Assert.That(async () => await Dispatcher(queue, broker).DispatchDueAsync(bound.Token), Throws.InstanceOf<OperationCanceledException>());

        Assert.That(await DispatchedAtAsync(stuck.Id), Is.Null, "another replica's dispatcher sends it at its next tick");
    }

    [Test]
    public async Task With_the_broker_away_the_dispatcher_reports_failing_and_leaves_its_batch_unsent()
    {
        var queue = TestWorker.UniqueQueue();
        var job = await JobFactory.InsertAsync(queue: queue);
        var dispatcher = Dispatcher(queue, new Broker((_, _) => throw new InvalidOperationException("broker unreachable")));

        await dispatcher.TickAsync(CancellationToken.None);

        Assert.That(dispatcher.Failures, Is.EqualTo(1));
        Assert.That(dispatcher.LastError, Does.Contain("broker unreachable"));
        Assert.That(await DispatchedAtAsync(job.Id), Is.Null);
    }
}
