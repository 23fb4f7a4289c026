using System.Diagnostics;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>The one writer: every outcome kind applied on the real database, fenced, with its event, a refused row failing alone.</summary>
public sealed class JobCompleterTests
{
    private static JobLifecycle Lifecycle => TestJobs.Lifecycle;

    private static Task<Job> RunningAsync(int maxAttempts = 3, string owner = "worker-a", string? cancelReason = null, int attempt = 1) =>
        JobFactory.InsertAsync(JobState.Running, maxAttempts: maxAttempts, owner: owner, cancelReason: cancelReason, attempt: attempt);

    private static Task<AppliedOutcome?> AfterRunAsync(Job claimed, AttemptResult result) => TestJobs.ApplyAsync(Lifecycle.AfterRun(claimed, result));

    private static AttemptResult Success(string json) => AttemptResult.Succeeded(System.Text.Json.JsonDocument.Parse(json).RootElement);

    [Test]
    public async Task A_success_records_the_result_the_finish_time_and_JobSucceeded()
    {
        var claimed = await RunningAsync();

        var applied = await AfterRunAsync(claimed, Success("""{"answer": 42}"""));

        var row = await TestJobs.FindAsync(claimed.Id);
        Assert.That(applied!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(applied.Event.Result, Is.EqualTo("""{"answer": 42}"""));
        Assert.That(row!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(row.Result, Is.EqualTo("""{"answer": 42}"""));
        Assert.That(row.FinishedAt, Is.Not.Null);
        Assert.That(row.LeaseExpiresAt, Is.Null);
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Succeeded@1" }));
    }

    [Test]
    public async Task Outcomes_of_one_batch_are_fenced_one_by_one()
    {
        var mine = await RunningAsync();
        var lapsedAndRescued = await RunningAsync();
        var otherOwner = await RunningAsync(owner: "worker-b");
        await TestJobs.ExecuteAsync("UPDATE jobs SET state = 'Pending', owner = NULL WHERE id = $1", lapsedAndRescued.Id);

        var applied = await TestJobs.Store.ApplyAsync(
        [
            Lifecycle.AfterRun(mine, Success("1")),
            Lifecycle.AfterRun(lapsedAndRescued, Success("2")),
            Lifecycle.AfterRun(otherOwner, Success("3")) with { Owner = "worker-a" },
        ], CancellationToken.None);

        Assert.That(applied.Select(a => a?.State), Is.EqualTo(new JobState?[] { JobState.Succeeded, null, null }), "each outcome in the order given");
        Assert.That((await TestJobs.FindAsync(lapsedAndRescued.Id))!.State, Is.EqualTo(JobState.Pending));
        Assert.That((await TestJobs.FindAsync(otherOwner.Id))!.State, Is.EqualTo(JobState.Running), "not this owner's job");
        Assert.That(await TestJobs.HistoryAsync(lapsedAndRescued.Id), Is.Empty, "a refused outcome records no event");
    }

    [Test, Description("A stale outcome beside a current one for the same job, in one statement, is fenced out on its own.")]
    public async Task Two_outcomes_for_one_job_in_one_statement_apply_only_the_one_that_passes_its_fence()
    {
        var claimed = await RunningAsync();
        var current = Lifecycle.AfterRun(claimed, Success("\"current\""));

        var applied = await TestJobs.Store.ApplyAsync([current with { Attempt = 2, ResultJson = "\"stale\"" }, current], CancellationToken.None);

        Assert.That(applied.Select(a => a is null), Is.EqualTo(new[] { true, false }));
        Assert.That((await TestJobs.FindAsync(claimed.Id))!.Result, Is.EqualTo("\"current\""));
    }

    [Test, Description("Finding: a result jsonb refuses failed the whole batch; now only that job fails, with the reason, and the rest succeed.")]
    public async Task A_result_the_database_refuses_fails_only_its_own_job_with_the_reason()
    {
        var jobs = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => RunningAsync(maxAttempts: 1)));
        var results = jobs.Select((_, i) => i == 7 ? Success("1e1000000") : Success($$"""{"n": {{i}}}""")).ToArray();

        var applied = await Task.WhenAll(jobs.Select((job, i) => AfterRunAsync(job, results[i])));

        var rows = (await TestJobs.LoadAsync([.. jobs.Select(j => j.Id)])).ToDictionary(j => j.Id);
        Assert.That(jobs.Where((_, i) => i != 7).Select(j => rows[j.Id].State), Is.All.EqualTo(JobState.Succeeded));
        Assert.That(rows[jobs[7].Id].State, Is.EqualTo(JobState.Failed));
        Assert.That(rows[jobs[7].Id].Error, Does.Contain("could not be stored").And.Contain("22003"));
        Assert.That(applied[7]!.Event.Kind, Is.EqualTo("Failed"));
        Assert.That(await TestJobs.EventsAsync(jobs[7].Id), Is.EqualTo(new[] { "Failed@1" }), "the job's final event is in the ledger");
    }

    [Test]
    public async Task The_writer_answers_each_concurrent_caller_with_its_own_fenced_outcome_linked_to_its_trace()
    {
        var completer = new JobCompleter(TestJobs.Store, Options.Create(new JobOptions()), Options.Create(new ResilienceOptions()), NullLogger<JobCompleter>.Instance);
        var claimed = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => RunningAsync()));
        var spans = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "JobWorker" or "Test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(tracing);
        using var source = new ActivitySource("Test");
        var traces = new ActivityTraceId[claimed.Length];

        var applied = await Task.WhenAll(claimed.Select(async (job, i) =>
        {
            using var caller = source.StartActivity("handler", ActivityKind.Internal, parentContext: default);
            traces[i] = caller!.TraceId;
            var outcome = Lifecycle.AfterRun(job, AttemptResult.Succeeded(null));
            return await completer.ApplyAsync(i == 7 ? outcome with { Attempt = 2 } : outcome, CancellationToken.None);
        }));

        var writes = spans.Where(s => s.DisplayName == "jobworker.transition apply-outcomes").ToList();
        Assert.That(traces, Is.All.Matches<ActivityTraceId>(t => writes.Any(w => w.TraceId == t || w.Links.Any(l => l.Context.TraceId == t))),
            "every caller's trace holds, or is linked from, the write of its outcome");
        Assert.That(applied[7], Is.Null, "a fenced-out outcome is refused, and only that one");
        Assert.That(applied.Count(a => a is not null), Is.EqualTo(39));
        Assert.That((await TestJobs.FindAsync(claimed[7].Id))!.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public async Task A_finished_job_is_never_overwritten()
    {
        var claimed = await RunningAsync(maxAttempts: 1);
        await AfterRunAsync(claimed, AttemptResult.Failed("first failure", retryable: true));

        var second = await AfterRunAsync(claimed, AttemptResult.Failed("second failure", retryable: true));
        var success = await AfterRunAsync(claimed, Success("1"));

        Assert.That(second, Is.Null);
        Assert.That(success, Is.Null);
        Assert.That((await TestJobs.FindAsync(claimed.Id))!.Error, Is.EqualTo("first failure"));
        Assert.That(await TestJobs.HistoryAsync(claimed.Id), Is.EqualTo(new[] { "Failed@1" }), "one JobFailed");
    }

    [Test]
    public async Task A_retried_failure_goes_back_to_pending_due_after_its_backoff_and_keeps_the_error()
    {
        var claimed = await RunningAsync();

        var applied = await TestJobs.ApplyAsync(Lifecycle.AfterRun(claimed, AttemptResult.Failed("transient boom", retryable: true)) with { RetryAfter = TimeSpan.FromMinutes(10) });

        var row = await TestJobs.FindAsync(claimed.Id);
        Assert.That(applied!.Event.WillRetry, Is.True);
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Error, Is.EqualTo("transient boom"));
        Assert.That(row.Owner, Is.Null);
        Assert.That(row.FinishedAt, Is.Null);
        Assert.That(row.DispatchedAt, Is.Null);
        Assert.That(row.RunAt, Is.GreaterThan(row.UpdatedAt.AddMinutes(9)), "not due before its backoff is over");
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Retrying@1 (will retry)" }));
    }

    [Test]
    public async Task A_release_gives_the_attempt_back_and_keeps_the_event_as_history_only()
    {
        var claimed = await RunningAsync();

        var applied = await TestJobs.ApplyAsync(Lifecycle.Release(claimed, "the worker is stopping"));

        var row = await TestJobs.FindAsync(claimed.Id);
        Assert.That(applied!.State, Is.EqualTo(JobState.Pending));
        Assert.That(applied.Event.IsPublished, Is.False);
        Assert.That(row!.Owner, Is.Null);
        Assert.That(row.DispatchedAt, Is.Null, "the dispatcher (or the drain) sends it again");
        Assert.That(row.Attempt, Is.EqualTo(1), "the attempt number fences late writes and never goes back");
        Assert.That(row.MaxAttempts, Is.EqualTo(4), "an interrupted attempt does not use up the budget");
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.Empty, "nothing to publish");
        Assert.That(await TestJobs.HistoryAsync(claimed.Id), Is.EqualTo(new[] { "Released@1" }));
    }

    [Test]
    public async Task A_requested_cancel_wins_over_a_retry_a_failure_and_a_release_but_not_over_a_success()
    {
        var retried = await RunningAsync(cancelReason: "stop");
        var released = await RunningAsync(cancelReason: "stop");
        var succeeded = await RunningAsync(cancelReason: "stop");

        var applied = new[]
        {
            await AfterRunAsync(retried, AttemptResult.Failed("boom", retryable: true)),
            await TestJobs.ApplyAsync(Lifecycle.Release(released, "draining")),
            await AfterRunAsync(succeeded, Success("1")),
        };

        Assert.That(applied.Select(a => a!.State), Is.EqualTo(new[] { JobState.Cancelled, JobState.Cancelled, JobState.Succeeded }));
        Assert.That(applied.Select(a => a!.Event.Kind), Is.EqualTo(new[] { "Cancelled", "Cancelled", "Succeeded" }));
        Assert.That((await TestJobs.FindAsync(retried.Id))!.Error, Is.EqualTo("stop"));
        Assert.That(await TestJobs.HistoryAsync(succeeded.Id), Is.EqualTo(new[] { "Succeeded@1" }),
            "a cancel that loses the race to a success leaves one terminal event, the success");
    }

    [Test]
    public async Task An_operators_retry_is_an_outcome_with_its_event()
    {
        var failed = await JobFactory.InsertAsync(JobState.Failed, attempt: 3, maxAttempts: 3, error: "gave up");
        var location = (await TestJobs.Store.LocateAsync(failed.Id, CancellationToken.None))!;

        var applied = await TestJobs.ApplyAsync(JobLifecycle.Requeue(location, extraAttempts: 2));
        var again = await TestJobs.ApplyAsync(JobLifecycle.Requeue(location, extraAttempts: 2));

        var row = await TestJobs.FindAsync(failed.Id);
        Assert.That(applied!.State, Is.EqualTo(JobState.Pending));
        Assert.That(again, Is.Null, "no longer Failed");
        Assert.That((row!.MaxAttempts, row.Error, row.FinishedAt), Is.EqualTo((5, (string?)null, (DateTime?)null)));
        Assert.That(await TestJobs.HistoryAsync(failed.Id), Is.EqualTo(new[] { "Requeued@3" }));
    }

    [Test, Description("Finding: a final failure at the attempt of an earlier 'will retry' event was dropped by ON CONFLICT DO NOTHING, so the ledger held no final event.")]
    public async Task A_job_set_aside_after_a_retry_at_the_same_attempt_records_its_final_failure()
    {
        var claimed = await RunningAsync();
        await AfterRunAsync(claimed, AttemptResult.Failed("first", retryable: true));
        var pending = (await TestJobs.Store.LocateAsync(claimed.Id, CancellationToken.None))!;

        var applied = await TestJobs.ApplyAsync(JobLifecycle.SetAside(pending, "cannot be read"));

        Assert.That(applied!.State, Is.EqualTo(JobState.Failed));
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Failed@1", "Retrying@1 (will retry)" }));
    }

    [Test]
    public async Task A_NUL_character_in_an_error_a_reason_or_a_result_never_fails_the_write()
    {
        var failed = await RunningAsync(maxAttempts: 1);
        var succeeded = await RunningAsync();
        var cancelled = await RunningAsync();

        var applied = new[]
        {
            await AfterRunAsync(failed, AttemptResult.Failed("bad\0error", retryable: false)),
            await AfterRunAsync(succeeded, Success("""{"text": "a\u0000b", "k\u0000": [1, "\u0000"]}""")),
            await AfterRunAsync(cancelled, AttemptResult.Cancelled("bad\0reason")),
        };

        Assert.That(applied, Is.All.Not.Null);
        Assert.That((await TestJobs.FindAsync(failed.Id))!.Error, Is.EqualTo("bad\uFFFDerror"));
        Assert.That((await TestJobs.FindAsync(succeeded.Id))!.Result, Does.Contain("a\uFFFDb"));
        Assert.That((await TestJobs.FindAsync(cancelled.Id))!.Error, Is.EqualTo("bad\uFFFDreason"));
    }
}
