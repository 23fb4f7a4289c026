using System.Diagnostics;
using JobWorker.Jobs;
using Microsoft.Extensions.Options;
using JobWorker.Persistence;

namespace JobWorker.Tests.Jobs;

/// <summary>The ledger's guarded writes, on the real database: each transition, its fencing, and the events it records.</summary>
public sealed class JobStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static JobStore Store => TestJobs.Store;

    private static async Task<NewJob> AcceptedAsync(int maxAttempts = 3)
    {
        var job = new NewJob(Guid.NewGuid(), "noop", """{"n": 1}""", maxAttempts, null, Guid.NewGuid());
        Assert.That(await Store.AcceptAsync(job, CancellationToken.None), Is.True, "a new job with no schedule is due at once");
        return job;
    }

    private static Task<Job?> ClaimAsync(Guid id, string owner, TimeSpan? lease = null, Guid? token = null) =>
        Store.ClaimAsync(id, owner, token ?? Guid.NewGuid(), lease ?? Lease, CancellationToken.None);

    private static async Task<Job> ClaimedAsync(int maxAttempts = 3, string owner = "worker-a", TimeSpan? lease = null) =>
        (await ClaimAsync((await AcceptedAsync(maxAttempts)).Id, owner, lease))!;

    private static async Task LapseLeaseAsync(Guid id) =>
        await TestJobs.ExecuteAsync("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", id);

    [Test]
    public async Task Accept_is_idempotent_on_the_job_id()
    {
        var job = await AcceptedAsync();

        var again = await Store.AcceptAsync(job with { Type = "delay" }, CancellationToken.None);

        var row = await Store.FindAsync(job.Id, CancellationToken.None);
        Assert.That(again, Is.Null, "the second accept finds the row");
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Type, Is.EqualTo("noop"), "the second accept must not overwrite the first");
        Assert.That(row.Payload, Is.EqualTo("""{"n": 1}"""));
        Assert.That(row.DispatchedAt, Is.Not.Null, "a due job's own delivery is its dispatch");
    }

    [Test]
    public async Task A_scheduled_job_is_accepted_as_pending_due_later_and_cannot_be_claimed_before_then()
    {
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Delay: TimeSpan.FromHours(1));

        var due = await Store.AcceptAsync(job, CancellationToken.None);
        var claim = await ClaimAsync(job.Id, "worker-a");

        var row = await Store.FindAsync(job.Id, CancellationToken.None);
        Assert.That(due, Is.False);
        Assert.That(claim, Is.Null);
        Assert.That(row!.RunAt, Is.GreaterThan(row.CreatedAt.AddMinutes(59)));
        Assert.That(row.DispatchedAt, Is.Null, "the dispatcher sends it when it is due");
    }

    [Test]
    public async Task Claim_moves_a_pending_job_to_running_and_records_JobStarted()
    {
        var job = await AcceptedAsync();

        var claimed = await ClaimAsync(job.Id, "worker-a");

        Assert.That(claimed, Is.Not.Null);
        Assert.That(claimed!.State, Is.EqualTo(JobState.Running));
        Assert.That(claimed.Attempt, Is.EqualTo(1));
        Assert.That(claimed.Owner, Is.EqualTo("worker-a"));
        Assert.That(claimed.LeaseExpiresAt, Is.GreaterThan(claimed.StartedAt!.Value));
        Assert.That(await TestJobs.EventsAsync(job.Id), Is.EqualTo(new[] { "Started@1" }));
    }

    [Test]
    public async Task Claim_refuses_a_job_another_worker_runs_even_under_a_lapsed_lease()
    {
        var job = await AcceptedAsync();
        await ClaimAsync(job.Id, "worker-a", TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);

        var second = await ClaimAsync(job.Id, "worker-b");

        Assert.That(second, Is.Null, "a lapsed lease is recovery's to take back, not a claim's");
        Assert.That((await Store.FindAsync(job.Id, CancellationToken.None))!.Owner, Is.EqualTo("worker-a"));
    }

    [Test]
    public async Task A_claim_retried_after_its_reply_was_lost_finds_its_own_claim()
    {
        var job = await AcceptedAsync();
        var token = Guid.NewGuid();
        await ClaimAsync(job.Id, "worker-a", token: token);

        var retried = await ClaimAsync(job.Id, "worker-a", token: token);
        var otherDelivery = await ClaimAsync(job.Id, "worker-a");

        Assert.That(retried?.Attempt, Is.EqualTo(1), "the same claim, not a second attempt");
        Assert.That(otherDelivery, Is.Null, "another delivery of the job in the same worker is not that claim");
        Assert.That(await TestJobs.EventsAsync(job.Id), Is.EqualTo(new[] { "Started@1" }));
    }

    [Test]
    public async Task Only_one_of_many_concurrent_claims_wins()
    {
        var job = await AcceptedAsync();

        var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => ClaimAsync(job.Id, $"worker-{i}")));

        Assert.That(claims.Count(c => c is not null), Is.EqualTo(1));
        Assert.That((await Store.FindAsync(job.Id, CancellationToken.None))!.Attempt, Is.EqualTo(1));
    }

    [Test]
    public async Task Succeed_records_the_result_the_finish_time_and_JobSucceeded()
    {
        var claimed = await ClaimedAsync();

        var recorded = await Store.SucceedAsync(claimed, """{"answer": 42}""", CancellationToken.None);

        var row = await Store.FindAsync(claimed.Id, CancellationToken.None);
        Assert.That(recorded?.EventKind, Is.EqualTo(JobEventKind.Succeeded));
        Assert.That(row!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(row.Result, Is.EqualTo("""{"answer": 42}"""));
        Assert.That(row.FinishedAt, Is.Not.Null);
        Assert.That(row.LeaseExpiresAt, Is.Null);
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Started@1", "Succeeded@1" }));
    }

    [Test]
    public async Task Batched_successes_are_fenced_one_by_one_in_one_statement()
    {
        var first = await ClaimedAsync();
        var lapsed = await ClaimedAsync();
        var otherOwner = await ClaimedAsync(owner: "worker-b");
        await LapseLeaseAsync(lapsed.Id);
        await Store.RecoverLapsedAsync(10_000, CancellationToken.None);
        var impostor = (await Store.FindAsync(otherOwner.Id, CancellationToken.None))!;
        impostor.Owner = "worker-a";

        var events = await Store.SucceedAsync(
            [new JobSuccess(first, "1"), new JobSuccess(lapsed, "2"), new JobSuccess(impostor, "3")], CancellationToken.None);

        Assert.That(events.Select(e => e?.EventKind), Is.EqualTo(new JobEventKind?[] { JobEventKind.Succeeded, null, null }), "each job in the order given");
        Assert.That(events[0]!.Result, Is.EqualTo("1"));
        Assert.That((await Store.FindAsync(first.Id, CancellationToken.None))!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That((await Store.FindAsync(lapsed.Id, CancellationToken.None))!.State, Is.EqualTo(JobState.Pending), "recovery took it back");
        Assert.That((await Store.FindAsync(otherOwner.Id, CancellationToken.None))!.State, Is.EqualTo(JobState.Running), "not this owner's job");
        Assert.That(await TestJobs.EventsAsync(lapsed.Id), Does.Not.Contain("Succeeded@1"));
    }

    [Test]
    public async Task The_completer_answers_each_concurrent_caller_with_its_own_fenced_outcome()
    {
        var completer = new JobCompleter(Store, Options.Create(new JobOptions()), Options.Create(new JobWorker.Resilience.ResilienceOptions()));
        var claimed = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => ClaimedAsync()));
        var stale = (await Store.FindAsync(claimed[7].Id, CancellationToken.None))!;
        stale.Attempt = 2;

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

        var events = await Task.WhenAll(claimed.Select(async (j, i) =>
        {
            using var caller = source.StartActivity("handler", ActivityKind.Internal, parentContext: default);
            traces[i] = caller!.TraceId;
            return await completer.SucceedAsync(j == claimed[7] ? stale : j, null, CancellationToken.None);
        }));

        var writes = spans.Where(s => s.DisplayName == "jobworker.transition succeed").ToList();
        Assert.That(traces, Is.All.Matches<ActivityTraceId>(t => writes.Any(w => w.TraceId == t || w.Links.Any(l => l.Context.TraceId == t))),
            "every caller's trace holds, or is linked from, the write of its success");
        Assert.That(events.Count(e => e is not null), Is.EqualTo(39));
        Assert.That((await Store.FindAsync(claimed[7].Id, CancellationToken.None))!.State, Is.EqualTo(JobState.Running));
        Assert.That(events[7], Is.Null, "a fenced-out success is refused, and only that one");
        Assert.That(events.Where(e => e is not null).Select(e => e!.JobId), Is.EquivalentTo(claimed.Where(j => j != claimed[7]).Select(j => j.Id)));
    }

    [Test]
    public async Task An_outcome_from_an_attempt_recovery_took_back_is_refused_and_records_no_event()
    {
        var claimed = await ClaimedAsync();
        await LapseLeaseAsync(claimed.Id);
        await Store.RecoverLapsedAsync(10_000, CancellationToken.None);

        var late = await Store.SucceedAsync(claimed, "\"late\"", CancellationToken.None);
        var lateFailure = await Store.FailAsync(claimed, "late", CancellationToken.None);

        var row = await Store.FindAsync(claimed.Id, CancellationToken.None);
        Assert.That(late, Is.Null);
        Assert.That(lateFailure, Is.Null);
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Result, Is.Null);
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Failed@1 (will retry)", "Started@1" }));
    }

    [Test]
    public async Task A_finished_job_is_never_overwritten_and_a_second_writer_reports_nothing_written()
    {
        var claimed = await ClaimedAsync();
        await Store.FailAsync(claimed, "first failure", CancellationToken.None);

        var second = await Store.FailAsync(claimed, "second failure", CancellationToken.None);
        var success = await Store.SucceedAsync(claimed, "1", CancellationToken.None);
        var reclaim = await ClaimAsync(claimed.Id, "worker-b");

        Assert.That(second, Is.Null, "the target state was already reached by someone else: not this writer's success");
        Assert.That(success, Is.Null);
        Assert.That(reclaim, Is.Null);
        Assert.That((await Store.FindAsync(claimed.Id, CancellationToken.None))!.Error, Is.EqualTo("first failure"));
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Failed@1", "Started@1" }), "one JobFailed");
    }

    [Test]
    public async Task A_retried_failure_goes_back_to_pending_due_after_its_backoff_and_keeps_the_error()
    {
        var claimed = await ClaimedAsync();

        var recorded = await Store.RetryLaterAsync(claimed, "transient boom", TimeSpan.FromMinutes(10), CancellationToken.None);

        var row = await Store.FindAsync(claimed.Id, CancellationToken.None);
        Assert.That(recorded!.WillRetry, Is.True);
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Error, Is.EqualTo("transient boom"));
        Assert.That(row.Owner, Is.Null);
        Assert.That(row.FinishedAt, Is.Null);
        Assert.That(row.DispatchedAt, Is.Null);
        Assert.That(row.RunAt, Is.GreaterThan(row.UpdatedAt.AddMinutes(9)));
        Assert.That(await Store.TakeDueAsync("", 10_000, TimeSpan.FromMinutes(5), CancellationToken.None), Has.None.Matches<Job>(j => j.Id == claimed.Id),
            "not dispatched before its backoff is over");
    }

    [Test]
    public async Task A_final_failure_is_failed_with_its_error()
    {
        var claimed = await ClaimedAsync();

        await Store.FailAsync(claimed, "fatal", CancellationToken.None);

        var row = await Store.FindAsync(claimed.Id, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Failed));
        Assert.That(row.Error, Is.EqualTo("fatal"));
        Assert.That(row.FinishedAt, Is.Not.Null);
    }

    [Test]
    public async Task Release_returns_an_interrupted_job_to_pending_due_now_without_using_up_its_attempt()
    {
        var claimed = await ClaimedAsync();

        var released = await Store.ReleaseAsync(claimed, CancellationToken.None);

        var row = await Store.FindAsync(claimed.Id, CancellationToken.None);
        Assert.That(released?.State, Is.EqualTo(JobState.Pending));
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Error, Is.Null);
        Assert.That(row.Owner, Is.Null);
        Assert.That(row.DispatchedAt, Is.Null, "the dispatcher (or the drain) sends it again");
        Assert.That(row.Attempt, Is.EqualTo(1), "the attempt number fences late writes and never goes back");
        Assert.That(row.MaxAttempts, Is.EqualTo(claimed.MaxAttempts + 1), "an interrupted attempt does not use up the budget");
    }

    [Test]
    public async Task Renewing_extends_only_the_listed_jobs_of_the_owner_and_reports_a_requested_cancel()
    {
        var mine = await ClaimedAsync(owner: "worker-renew", lease: TimeSpan.FromSeconds(5));
        var mineButNotListed = await ClaimedAsync(owner: "worker-renew", lease: TimeSpan.FromSeconds(5));
        var theirs = await ClaimedAsync(owner: "worker-other", lease: TimeSpan.FromSeconds(5));
        await Store.RequestCancelAsync(mine.Id, "stop it", CancellationToken.None);

        var renewed = await Store.RenewLeasesAsync("worker-renew", [mine.Id, theirs.Id], TimeSpan.FromMinutes(10), CancellationToken.None);

        Assert.That(renewed.Select(r => (r.JobId, r.CancelReason)), Is.EqualTo(new[] { (mine.Id, (string?)"stop it") }));
        Assert.That((await Store.FindAsync(mine.Id, CancellationToken.None))!.LeaseExpiresAt, Is.GreaterThan(mine.LeaseExpiresAt!.Value.AddMinutes(5)));
        Assert.That((await Store.FindAsync(mineButNotListed.Id, CancellationToken.None))!.LeaseExpiresAt, Is.EqualTo(mineButNotListed.LeaseExpiresAt),
            "a job the replica no longer runs is not kept alive");
        Assert.That((await Store.FindAsync(theirs.Id, CancellationToken.None))!.LeaseExpiresAt, Is.EqualTo(theirs.LeaseExpiresAt));
    }

    [Test]
    public async Task Recovery_takes_back_lapsed_leases_as_pending_failed_or_cancelled()
    {
        var again = await ClaimedAsync(maxAttempts: 3);
        var lastAttempt = await ClaimedAsync(maxAttempts: 1);
        var cancelRequested = await ClaimedAsync(maxAttempts: 3);
        var live = await ClaimedAsync(maxAttempts: 3);
        await Store.RequestCancelAsync(cancelRequested.Id, "while its owner was dead", CancellationToken.None);
        foreach (var job in new[] { again, lastAttempt, cancelRequested })
        {
            await LapseLeaseAsync(job.Id);
        }

        var recovered = await Store.RecoverLapsedAsync(10_000, CancellationToken.None);

        var rows = (await TestJobs.LoadAsync([again.Id, lastAttempt.Id, cancelRequested.Id, live.Id])).ToDictionary(j => j.Id);
        Assert.That(recovered.Select(e => e.JobId), Is.SupersetOf(new[] { again.Id, lastAttempt.Id, cancelRequested.Id }));
        Assert.That(recovered.Select(e => e.JobId), Does.Not.Contain(live.Id));
        Assert.That(rows[again.Id].State, Is.EqualTo(JobState.Pending));
        Assert.That(rows[again.Id].Attempt, Is.EqualTo(1), "the attempt is used");
        Assert.That(rows[again.Id].Error, Does.Contain("worker-a stopped during attempt 1"));
        Assert.That(rows[lastAttempt.Id].State, Is.EqualTo(JobState.Failed));
        Assert.That(rows[lastAttempt.Id].Error, Does.Contain("stopped during the last one"));
        Assert.That(rows[cancelRequested.Id].State, Is.EqualTo(JobState.Cancelled));
        Assert.That(rows[cancelRequested.Id].Error, Is.EqualTo("while its owner was dead"));
        Assert.That(rows[live.Id].State, Is.EqualTo(JobState.Running));
        Assert.That(await TestJobs.EventsAsync(cancelRequested.Id), Is.EqualTo(new[] { "Cancelled@1", "Started@1" }));
    }

    [Test]
    public async Task Dispatch_takes_each_due_job_once_until_it_is_undispatched_or_its_message_is_overdue()
    {
        var due = await AcceptedAsync();
        await TestJobs.ExecuteAsync("UPDATE jobs SET dispatched_at = NULL WHERE id = $1", due.Id);
        var scheduled = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Delay: TimeSpan.FromHours(1));
        await Store.AcceptAsync(scheduled, CancellationToken.None);

        var first = await Store.TakeDueAsync("", 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);
        var second = await Store.TakeDueAsync("", 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);
        await Store.UndispatchAsync([due.Id], CancellationToken.None);
        var afterUndispatch = await Store.TakeDueAsync("", 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);
        await TestJobs.ExecuteAsync("UPDATE jobs SET dispatched_at = now() - interval '10 minutes' WHERE id = $1", due.Id);
        var overdue = await Store.TakeDueAsync("", 10_000, TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.That(first.Select(j => j.Id), Does.Contain(due.Id).And.Not.Contain(scheduled.Id));
        Assert.That(second.Select(j => j.Id), Does.Not.Contain(due.Id));
        Assert.That(afterUndispatch.Select(j => j.Id), Does.Contain(due.Id));
        Assert.That(overdue.Select(j => j.Id), Does.Contain(due.Id), "a message sent long ago and never claimed is sent again");
    }

    [Test]
    public async Task A_cancel_ends_a_pending_job_records_a_running_ones_request_leaves_a_tombstone_and_skips_a_finished_one()
    {
        var pending = await AcceptedAsync();
        var running = await ClaimedAsync();
        var finished = await ClaimedAsync();
        await Store.SucceedAsync(finished, null, CancellationToken.None);
        var unknown = Guid.NewGuid();

        var states = new[]
        {
            await Store.RequestCancelAsync(pending.Id, "no longer wanted", CancellationToken.None),
            await Store.RequestCancelAsync(running.Id, "no longer wanted", CancellationToken.None),
            await Store.RequestCancelAsync(finished.Id, "no longer wanted", CancellationToken.None),
            await Store.RequestCancelAsync(unknown, "no longer wanted", CancellationToken.None),
            await Store.RequestCancelAsync(pending.Id, "asked twice", CancellationToken.None),
        };

        Assert.That(states, Is.EqualTo(new JobState?[] { JobState.Cancelled, JobState.Running, null, JobState.Cancelled, null }));
        Assert.That((await Store.FindAsync(running.Id, CancellationToken.None))!.CancelReason, Is.EqualTo("no longer wanted"));
        Assert.That(await TestJobs.EventsAsync(pending.Id), Is.EqualTo(new[] { "Cancelled@0" }), "exactly one JobCancelled");
        Assert.That(await TestJobs.EventsAsync(unknown), Is.EqualTo(new[] { "Cancelled@0" }));
        Assert.That(await ClaimAsync(unknown, "worker-a"), Is.Null, "the tombstone keeps a late SubmitJob from running");
    }

    [Test]
    public async Task A_retry_of_a_job_whose_cancel_was_requested_ends_it_cancelled()
    {
        var claimed = await ClaimedAsync();
        await Store.RequestCancelAsync(claimed.Id, "stop", CancellationToken.None);

        var recorded = await Store.RetryLaterAsync(claimed, "boom", TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.That(recorded?.EventKind, Is.EqualTo(JobEventKind.Cancelled));
        Assert.That((await Store.FindAsync(claimed.Id, CancellationToken.None))!.State, Is.EqualTo(JobState.Cancelled));
    }

    [Test]
    public async Task A_NUL_character_in_an_error_a_reason_or_a_result_never_fails_the_write()
    {
        var failed = await ClaimedAsync();
        var succeeded = await ClaimedAsync();
        var cancelled = await ClaimedAsync();

        var failure = await Store.FailAsync(failed, "bad\0error", CancellationToken.None);
        var success = await Store.SucceedAsync(succeeded, """{"text": "a\u0000b", "k\u0000": [1, "\u0000"]}""", CancellationToken.None);
        var cancel = await Store.CancelRunningAsync(cancelled, "bad\0reason", CancellationToken.None);

        Assert.That(new object?[] { failure, success, cancel }, Is.All.Not.Null);
        Assert.That((await Store.FindAsync(failed.Id, CancellationToken.None))!.Error, Is.EqualTo("bad\uFFFDerror"));
        Assert.That((await Store.FindAsync(succeeded.Id, CancellationToken.None))!.Result, Does.Contain("a\uFFFDb"));
        Assert.That((await Store.FindAsync(cancelled.Id, CancellationToken.None))!.Error, Is.EqualTo("bad\uFFFDreason"));
    }

    [Test]
    public async Task Published_events_leave_the_outbox_for_the_history_and_unconfirmed_ones_are_taken_again_after_their_retry_time()
    {
        var claimed = await ClaimedAsync();
        var succeeded = (await Store.SucceedAsync(claimed, "1", CancellationToken.None))!;
        await TestJobs.ExecuteAsync("UPDATE job_events SET relay_after = now() - interval '1 second' WHERE job_id = $1 AND kind = 'Started'", claimed.Id);

        var overdue = await Store.TakeUnpublishedEventsAsync(10_000, CancellationToken.None);
        var takenAgain = await Store.TakeUnpublishedEventsAsync(10_000, CancellationToken.None);
        await Store.MarkEventsPublishedAsync([succeeded], CancellationToken.None);

        var started = overdue.Single(e => e.JobId == claimed.Id);
        Assert.That(started.Kind, Is.EqualTo("Started"));
        Assert.That(started.WorkerId, Is.EqualTo("worker-a"));
        Assert.That(started.JobType, Is.EqualTo("noop"));
        Assert.That(takenAgain.Select(e => e.JobId), Does.Not.Contain(claimed.Id), "taken events are the taker's until their retry time");
        Assert.That(await TestJobs.EventsAsync(claimed.Id), Is.EqualTo(new[] { "Started@1" }));
    }
}
