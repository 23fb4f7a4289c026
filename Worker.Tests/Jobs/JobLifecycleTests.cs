using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>The state machine's decisions, in code: what each way a step ends makes of the job.</summary>
public sealed class JobLifecycleTests
{
    private static readonly JobLifecycle Lifecycle = new(Options.Create(new RetryOptions { BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromMinutes(1) }));

    private static Job Claimed(int attempt, int maxAttempts) => new()
    {
        Id = Guid.NewGuid(), Type = "noop", State = JobState.Running, Attempt = attempt, MaxAttempts = maxAttempts, Owner = "worker-a",
    };

    [Test]
    public void A_failure_with_attempts_left_is_retried_after_the_backoff()
    {
        var outcome = Lifecycle.AfterRun(Claimed(2, 3), AttemptResult.Failed("boom", retryable: true));

        Assert.That(outcome.Kind, Is.EqualTo(JobOutcomeKind.Retry));
        Assert.That(outcome.RetryAfter, Is.InRange(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)), "the second attempt's backoff: 20 s with equal jitter");
        Assert.That((outcome.From, outcome.Attempt, outcome.Owner, outcome.Error), Is.EqualTo((JobState.Running, 2, (string?)"worker-a", (string?)"boom")));
    }

    [Test]
    public void A_failure_on_the_last_attempt_or_not_worth_retrying_fails_the_job()
    {
        Assert.That(Lifecycle.AfterRun(Claimed(3, 3), AttemptResult.Failed("boom", retryable: true)).Kind, Is.EqualTo(JobOutcomeKind.Failed));
        Assert.That(Lifecycle.AfterRun(Claimed(1, 3), AttemptResult.Failed("bad payload", retryable: false)).Kind, Is.EqualTo(JobOutcomeKind.Failed));
    }

    [Test]
    public void An_interrupted_run_is_released_with_its_attempt_given_back()
    {
        var outcome = Lifecycle.AfterRun(Claimed(1, 3), AttemptResult.Interrupted("the worker is stopping"));

        Assert.That((outcome.Kind, outcome.To, outcome.MaxAttempts, outcome.Event), Is.EqualTo((JobOutcomeKind.Released, JobState.Pending, (int?)4, JobEventKind.Released)));
    }

    [Test, Description("Recovery used to retry at once, ignoring the backoff a failed run gets; now both follow one policy.")]
    public void A_lapsed_lease_is_retried_after_the_same_backoff_as_a_failed_run_or_fails_on_the_last_attempt()
    {
        var lease = TimeSpan.FromSeconds(30);

        var again = Lifecycle.Recover(new LapsedJob(Guid.NewGuid(), "noop", 2, 3, "worker-dead", null), lease);
        var last = Lifecycle.Recover(new LapsedJob(Guid.NewGuid(), "noop", 3, 3, "worker-dead", null), lease);

        Assert.That(again.Kind, Is.EqualTo(JobOutcomeKind.Retry));
        Assert.That(again.RetryAfter, Is.InRange(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)));
        Assert.That(again.OnlyIfLeaseLapsed, Is.True);
        Assert.That(again.Error, Does.Contain("worker-dead stopped during attempt 2"));
        Assert.That(last.Kind, Is.EqualTo(JobOutcomeKind.Failed));
        Assert.That(last.Error, Does.Contain("Gave up after 3 of 3 attempts"));
    }

    [Test]
    public void An_operators_retry_adds_attempts_from_the_last_one_used()
    {
        var outcome = JobLifecycle.Requeue(new JobLocation(Guid.NewGuid(), "noop", JobState.Failed, 5, 5, null, DateTime.UtcNow), extraAttempts: 2);

        Assert.That((outcome.From, outcome.To, outcome.Attempt, outcome.MaxAttempts), Is.EqualTo((JobState.Failed, JobState.Pending, 5, (int?)7)));
    }

    [Test]
    public void An_outcome_the_database_refused_becomes_a_failure_without_its_result()
    {
        var refused = Lifecycle.AfterRun(Claimed(1, 3), AttemptResult.Succeeded(System.Text.Json.JsonDocument.Parse("1e1000000").RootElement));

        var failed = JobLifecycle.Unwritable(refused, "22003 value overflows numeric format");

        Assert.That((failed.Kind, failed.ResultJson, failed.Attempt, failed.Owner), Is.EqualTo((JobOutcomeKind.Failed, (string?)null, 1, (string?)"worker-a")));
        Assert.That(failed.Error, Does.Contain("22003"));
    }

    [Test]
    public void A_continuation_whose_parents_all_succeeded_becomes_Pending_due_now()
    {
        var outcome = JobLifecycle.Continue(new AwaitingJob(Guid.NewGuid(), "noop", AfterAny: false, Unfinished: 0, null, null));

        Assert.That(outcome, Is.Not.Null);
        Assert.That((outcome!.Kind, outcome.From, outcome.To, outcome.Attempt, outcome.RetryAfter, outcome.Event),
            Is.EqualTo((JobOutcomeKind.Continued, JobState.Awaiting, JobState.Pending, 0, TimeSpan.Zero, JobEventKind.Continued)));
    }

    [Test, Description("Only success will do by default: one failed parent cancels the child at once, even while other parents run.")]
    public void A_continuation_is_cancelled_naming_a_parent_that_failed()
    {
        var parent = Guid.NewGuid();

        var outcome = JobLifecycle.Continue(new AwaitingJob(Guid.NewGuid(), "noop", AfterAny: false, Unfinished: 3, parent, JobState.Failed));

        Assert.That((outcome!.Kind, outcome.To, outcome.Error), Is.EqualTo((JobOutcomeKind.Cancelled, JobState.Cancelled, (string?)$"Parent job {parent} ended Failed.")));
    }

    [Test]
    public void A_continuation_on_any_outcome_waits_for_every_parent_then_runs_whatever_they_became()
    {
        var failedParent = Guid.NewGuid();

        var waiting = JobLifecycle.Continue(new AwaitingJob(Guid.NewGuid(), "noop", AfterAny: true, Unfinished: 1, failedParent, JobState.Failed));
        var released = JobLifecycle.Continue(new AwaitingJob(Guid.NewGuid(), "noop", AfterAny: true, Unfinished: 0, failedParent, JobState.Cancelled));

        Assert.That(waiting, Is.Null);
        Assert.That(released?.Kind, Is.EqualTo(JobOutcomeKind.Continued));
    }
}
