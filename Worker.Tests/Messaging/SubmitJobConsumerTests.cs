using JobWorker.Contracts;
using MassTransit;
using JobWorker.Persistence;

namespace JobWorker.Tests.Messaging;

/// <summary>The consumer's flow on the in-memory harness: transitions, events, retries, bad input and duplicates.</summary>
public sealed class SubmitJobConsumerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private TestWorker _worker = null!;

    [SetUp]
    public async Task StartWorker() => _worker = await TestWorker.StartAsync(inMemoryBus: true);

    [TearDown]
    public async Task StopWorker() => await _worker.DisposeAsync();

    [Test]
    public async Task A_job_runs_once_is_recorded_as_succeeded_and_publishes_started_and_succeeded()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType);

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Published.Any<JobSucceeded>(x => x.Context.Message.JobId == job.JobId), Is.True);
        Assert.That(await _worker.Harness.Published.Any<JobStarted>(x => x.Context.Message.JobId == job.JobId), Is.True);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(row.Attempt, Is.EqualTo(1));
        Assert.That(row.Result, Is.EqualTo("""{"attempt": 1}"""));
        Assert.That(_worker.Runs.For(job.JobId), Is.EqualTo(1));
    }

    [Test]
    public async Task A_job_without_payload_or_result_succeeds_and_its_event_carries_no_result()
    {
        var job = TestJobs.Submit("noop") with { Payload = null };

        await _worker.Harness.Bus.Publish(job);

        var succeeded = await _worker.Harness.Published.SelectAsync<JobSucceeded>(x => x.Context.Message.JobId == job.JobId).FirstOrDefaultAsync();
        Assert.That(succeeded?.Context.Message.Result, Is.Null);
        Assert.That(await _worker.Harness.Published.Any<Fault<SubmitJob>>(x => x.Context.Message.Message.JobId == job.JobId), Is.False);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.Payload, Is.EqualTo("null"));
        Assert.That(row.Result, Is.Null);
    }

    [Test]
    public async Task A_failing_job_is_retried_until_it_succeeds()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 2 }, maxAttempts: 3);

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Published.Any<JobSucceeded>(x => x.Context.Message.JobId == job.JobId), Is.True);
        var failures = _worker.Harness.Published.Select<JobFailed>(x => x.Context.Message.JobId == job.JobId).Select(x => x.Context.Message).ToList();
        Assert.That(failures.Select(f => f.WillRetry), Is.EqualTo(new[] { true, true }));
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(row.Attempt, Is.EqualTo(3));
        Assert.That(_worker.Runs.For(job.JobId), Is.EqualTo(3));
    }

    [Test]
    public async Task A_job_that_fails_every_attempt_ends_failed_with_its_last_error()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 99 }, maxAttempts: 2);

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Published.Any<JobFailed>(x => x.Context.Message.JobId == job.JobId && !x.Context.Message.WillRetry), Is.True);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Failed));
        Assert.That(row.Attempt, Is.EqualTo(2));
        Assert.That(row.Error, Does.Contain("planned failure on attempt 2"));
    }

    [Test]
    public async Task An_attempt_over_its_timeout_fails_as_timed_out()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { ms = 5_000 }, maxAttempts: 1, timeout: TimeSpan.FromMilliseconds(100));

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Published.Any<JobFailed>(x => x.Context.Message.JobId == job.JobId), Is.True);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Failed));
        Assert.That(row.Error, Does.StartWith("Timed out after 00:00:00.1"));
    }

    [Test]
    public async Task A_payload_the_handler_rejects_fails_at_once_without_retries()
    {
        var job = TestJobs.Submit("delay", new { ms = "soon" }, maxAttempts: 5);

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Published.Any<JobFailed>(x => x.Context.Message.JobId == job.JobId), Is.True);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Failed));
        Assert.That(row.Attempt, Is.EqualTo(1));
        Assert.That(row.Error, Does.Contain("\"ms\" must be a whole number"));
        Assert.That(_worker.Harness.Published.Select<Fault<SubmitJob>>(x => x.Context.Message.Message.JobId == job.JobId).Any(), Is.False,
            "the handler runs after the delivery is acknowledged: the ledger holds the failure, not the error queue");
    }

    [Test]
    public async Task A_scheduled_job_is_acknowledged_at_once_and_runs_no_earlier_than_it_is_due()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType) with { Delay = TimeSpan.FromSeconds(2) };

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Consumed.Any<SubmitJob>(x => x.Context.Message.JobId == job.JobId), Is.True);
        var waiting = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(waiting!.State, Is.EqualTo(JobState.Pending), "accepted, not run");
        var done = await TestJobs.WaitForStateAsync(job.JobId, JobState.Succeeded, Timeout);
        Assert.That(done.StartedAt, Is.GreaterThanOrEqualTo(waiting.RunAt));
        Assert.That(done.StartedAt, Is.GreaterThan(done.CreatedAt.AddSeconds(1.9)));
        Assert.That(_worker.Runs.For(job.JobId), Is.EqualTo(1));
    }

    public static IEnumerable<TestCaseData> OutOfRange()
    {
        yield return new TestCaseData(TestJobs.Submit("noop", timeout: TimeSpan.FromDays(60)), "at most 1.00:00:00 (Submissions:MaxTimeout)")
            .SetName("A 60-day timeout fails the job with the limit it broke");
        yield return new TestCaseData(TestJobs.Submit("noop", maxAttempts: 1000), "it must be between 1 and 100")
            .SetName("A thousand attempts fail the job with the limit it broke");
        yield return new TestCaseData(TestJobs.Submit("noop") with { Delay = TimeSpan.FromDays(4000) }, "(Submissions:MaxScheduleAhead)")
            .SetName("A delay past the schedule horizon fails the job with the limit it broke");
        yield return new TestCaseData(TestJobs.Submit("noop") with { RunAt = DateTime.UtcNow.AddHours(1), Delay = TimeSpan.FromHours(1) }, "Give RunAt or Delay, not both.")
            .SetName("Both RunAt and Delay fail the job");
        yield return new TestCaseData(TestJobs.Submit("noop", new { text = "a\u0000b" }), "NUL character")
            .SetName("A NUL character in the payload fails the job with a reason");
    }

    [TestCaseSource(nameof(OutOfRange))]
    public async Task Out_of_range_settings_fail_the_job_at_accept_with_a_reason_and_fault_the_message(SubmitJob job, string reason)
    {
        job = job with { JobId = Guid.NewGuid() };

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Published.Any<Fault<SubmitJob>>(x => x.Context.Message.Message.JobId == job.JobId), Is.True);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Failed), "never left Running or Pending");
        Assert.That(row.Error, Does.Contain(reason));
        Assert.That(row.Attempt, Is.Zero, "it never ran");
    }

    [Test, Description("Review finding: a SubmitJob of the id of a job enqueued in a transaction, failing its own checks, failed the client's job before any dispatcher had checked it; and a good one could run it unchecked.")]
    public async Task A_SubmitJob_of_an_unchecked_jobs_id_leaves_that_job_to_the_dispatchers_check()
    {
        var enqueued = await JobFactory.InsertAsync(type: RecordingJobHandler.JobType);
        await TestJobs.ExecuteAsync("UPDATE jobs SET unchecked = true WHERE id = $1", enqueued.Id);
        var bad = TestJobs.Submit("no-such-type") with { JobId = enqueued.Id };
        var good = TestJobs.Submit(RecordingJobHandler.JobType) with { JobId = enqueued.Id };

        await _worker.Harness.Bus.Publish(bad);
        Assert.That(await _worker.Harness.Published.Any<Fault<SubmitJob>>(x => x.Context.Message.Message.JobId == enqueued.Id), Is.True, "the bad message is refused");
        await _worker.Harness.Bus.Publish(good);
        Assert.That(await _worker.Harness.Consumed.Any<SubmitJob>(x => x.Context.Message.JobId == enqueued.Id && x.Context.Message.JobType == RecordingJobHandler.JobType), Is.True);

        var row = await TestJobs.Store.LocateAsync(enqueued.Id, CancellationToken.None);
        Assert.That((row!.State, row.Attempt, row.Unchecked), Is.EqualTo((JobState.Pending, 0, true)), "neither failed nor ran: the dispatcher checks it");
    }

    [Test]
    public async Task A_NUL_character_in_a_handler_error_or_result_is_stored_and_the_job_ends()
    {
        var failing = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 9, nul = true }, maxAttempts: 1);
        var succeeding = TestJobs.Submit(RecordingJobHandler.JobType, new { nul = true });

        await _worker.Harness.Bus.Publish(failing);
        await _worker.Harness.Bus.Publish(succeeding);

        var failed = await TestJobs.WaitForStateAsync(failing.JobId, JobState.Failed, Timeout);
        var succeeded = await TestJobs.WaitForStateAsync(succeeding.JobId, JobState.Succeeded, Timeout);
        Assert.That(failed.Error, Does.Contain("planned\uFFFDfailure"));
        Assert.That(succeeded.Result, Does.Contain("a\uFFFDb"));
    }

    [Test]
    public async Task A_job_cancelled_before_it_arrives_never_runs()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType);

        await _worker.Harness.Bus.Publish(new CancelJob { JobId = job.JobId, Reason = "changed my mind" });
        Assert.That(await _worker.Harness.Published.Any<JobCancelled>(x => x.Context.Message.JobId == job.JobId), Is.True);
        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Consumed.Any<SubmitJob>(x => x.Context.Message.JobId == job.JobId), Is.True);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(row.Error, Is.EqualTo("changed my mind"));
        Assert.That(_worker.Runs.For(job.JobId), Is.Zero);
    }

    [Test]
    public async Task Cancelling_a_running_job_stops_its_handler_and_ends_it_cancelled()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { ms = 30_000 });
        await _worker.Harness.Bus.Publish(job);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, Timeout);

        await _worker.Harness.Bus.Publish(new CancelJob { JobId = job.JobId });

        var cancelled = await TestJobs.WaitForStateAsync(job.JobId, JobState.Cancelled, Timeout);
        Assert.That(cancelled.Error, Is.EqualTo("Cancelled on request."));
        Assert.That(cancelled.FinishedAt - cancelled.StartedAt, Is.LessThan(TimeSpan.FromSeconds(25)), "the handler must have been stopped, not waited out");
        Assert.That(await _worker.Harness.Published.Any<JobCancelled>(x => x.Context.Message.JobId == job.JobId && x.Context.Message.Attempt == 1), Is.True);
        Assert.That(await _worker.Harness.Published.Any<JobSucceeded>(x => x.Context.Message.JobId == job.JobId), Is.False);
    }

    [Test]
    public async Task An_unknown_job_type_is_failed_with_a_clear_error_and_the_message_faults()
    {
        var job = TestJobs.Submit("no-such-type");

        await _worker.Harness.Bus.Publish(job);

        Assert.That(await _worker.Harness.Published.Any<Fault<SubmitJob>>(x => x.Context.Message.Message.JobId == job.JobId), Is.True);
        var row = await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Failed));
        Assert.That(row.Error, Does.Contain("Unknown job type 'no-such-type'").And.Contain("delay, noop, record"));
        Assert.That(await _worker.Harness.Published.Any<JobFailed>(x => x.Context.Message.JobId == job.JobId && !x.Context.Message.WillRetry), Is.True);
    }

    [Test]
    public async Task A_message_without_a_job_id_faults_and_stores_nothing()
    {
        var job = TestJobs.Submit("noop") with { JobId = Guid.Empty };

        await _worker.Harness.Bus.Publish(job);

        var fault = await _worker.Harness.Published.SelectAsync<Fault<SubmitJob>>().FirstOrDefaultAsync();
        Assert.That(fault, Is.Not.Null);
        Assert.That(fault!.Context.Message.Exceptions[0].Message, Is.EqualTo("JobId is missing or empty (is the body a SubmitJob?)."));
        Assert.That(await TestJobs.Store.FindAsync(Guid.Empty, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task The_same_job_delivered_twice_runs_once()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { ms = 200 });

        await Task.WhenAll(_worker.Harness.Bus.Publish(job), _worker.Harness.Bus.Publish(job));
        await _worker.Harness.Bus.Publish(job);

        var consumed = await _worker.Harness.Consumed.SelectAsync<SubmitJob>(x => x.Context.Message.JobId == job.JobId).Take(3).CountAsync();
        Assert.That(consumed, Is.EqualTo(3));
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Succeeded, Timeout);
        Assert.That(_worker.Runs.For(job.JobId), Is.EqualTo(1));
        Assert.That(_worker.Harness.Published.Select<JobSucceeded>(x => x.Context.Message.JobId == job.JobId).Count(), Is.EqualTo(1));
        Assert.That((await TestJobs.Store.FindAsync(job.JobId, CancellationToken.None))!.Attempt, Is.EqualTo(1));
    }

    [Test]
    public async Task A_status_request_is_answered_from_the_store()
    {
        var job = TestJobs.Submit(RecordingJobHandler.JobType);
        await _worker.Harness.Bus.Publish(job);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Succeeded, Timeout);
        var client = _worker.Harness.GetRequestClient<GetJobStatus>();

        var known = await client.GetResponse<JobStatus>(new GetJobStatus { JobId = job.JobId });
        var unknown = await client.GetResponse<JobStatus>(new GetJobStatus { JobId = Guid.NewGuid() });

        Assert.That(known.Message.Found, Is.True);
        Assert.That(known.Message.State, Is.EqualTo("Succeeded"));
        Assert.That(known.Message.Result?.GetProperty("attempt").GetInt32(), Is.EqualTo(1));
        Assert.That(unknown.Message.Found, Is.False);
    }
}
