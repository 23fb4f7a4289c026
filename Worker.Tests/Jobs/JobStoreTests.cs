using JobWorker.Jobs;

namespace JobWorker.Tests.Jobs;

/// <summary>The state machine's guarded writes, on the real database.</summary>
public sealed class JobStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static JobStore Store => TestJobs.Store;

    private static async Task<NewJob> AcceptedAsync(int maxAttempts = 3)
    {
        var job = new NewJob(Guid.NewGuid(), "noop", """{"n": 1}""", maxAttempts, null, Guid.NewGuid());
        Assert.That(await Store.AcceptAsync(job, CancellationToken.None), Is.True);
        return job;
    }

    [Test]
    public async Task Accept_is_idempotent_on_the_job_id()
    {
        var job = await AcceptedAsync();

        var again = await Store.AcceptAsync(job with { Type = "delay" }, CancellationToken.None);

        var row = await Store.FindAsync(job.Id, CancellationToken.None);
        Assert.That(again, Is.False);
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Type, Is.EqualTo("noop"), "the second accept must not overwrite the first");
        Assert.That(row.Payload, Is.EqualTo("""{"n": 1}"""));
    }

    [Test]
    public async Task Claim_moves_a_pending_job_to_running_with_the_next_attempt_and_the_owner()
    {
        var job = await AcceptedAsync();

        var claimed = await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);

        Assert.That(claimed, Is.Not.Null);
        Assert.That(claimed!.State, Is.EqualTo(JobState.Running));
        Assert.That(claimed.Attempt, Is.EqualTo(1));
        Assert.That(claimed.Owner, Is.EqualTo("worker-a"));
        Assert.That(claimed.LeaseExpiresAt, Is.GreaterThan(claimed.StartedAt!.Value));
    }

    [Test]
    public async Task Claim_refuses_a_job_another_worker_runs_under_a_live_lease()
    {
        var job = await AcceptedAsync();
        await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);

        var second = await Store.ClaimAsync(job.Id, "worker-b", Lease, CancellationToken.None);

        Assert.That(second, Is.Null);
        Assert.That((await Store.FindAsync(job.Id, CancellationToken.None))!.Owner, Is.EqualTo("worker-a"));
    }

    [Test]
    public async Task Claim_takes_over_a_running_job_whose_lease_has_lapsed()
    {
        var job = await AcceptedAsync();
        await Store.ClaimAsync(job.Id, "worker-a", TimeSpan.FromMilliseconds(1), CancellationToken.None);
        await Task.Delay(50);

        var takeover = await Store.ClaimAsync(job.Id, "worker-b", Lease, CancellationToken.None);

        Assert.That(takeover?.Owner, Is.EqualTo("worker-b"));
        Assert.That(takeover!.Attempt, Is.EqualTo(2));
    }

    [Test]
    public async Task Claim_refuses_a_job_that_has_used_all_its_attempts()
    {
        var job = await AcceptedAsync(maxAttempts: 1);
        var first = await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);
        await Store.FailAsync(job.Id, first!.Attempt, "boom", willRetry: true, CancellationToken.None);

        Assert.That(await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task Only_one_of_many_concurrent_claims_wins()
    {
        var job = await AcceptedAsync();

        var claims = await Task.WhenAll(Enumerable.Range(0, 16)
            .Select(i => Store.ClaimAsync(job.Id, $"worker-{i}", Lease, CancellationToken.None)));

        Assert.That(claims.Count(c => c is not null), Is.EqualTo(1));
        Assert.That((await Store.FindAsync(job.Id, CancellationToken.None))!.Attempt, Is.EqualTo(1));
    }

    [Test]
    public async Task Succeed_records_the_result_and_finish_time()
    {
        var job = await AcceptedAsync();
        var claimed = await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);

        var result = await Store.SucceedAsync(job.Id, claimed!.Attempt, """{"answer": 42}""", CancellationToken.None);

        var row = await Store.FindAsync(job.Id, CancellationToken.None);
        Assert.That(result.Applied, Is.True);
        Assert.That(row!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(row.Result, Is.EqualTo("""{"answer": 42}"""));
        Assert.That(row.FinishedAt, Is.Not.Null);
        Assert.That(row.LeaseExpiresAt, Is.Null);
    }

    [Test]
    public async Task An_outcome_from_a_stale_attempt_is_refused_and_reports_what_it_found()
    {
        var job = await AcceptedAsync();
        await Store.ClaimAsync(job.Id, "worker-a", TimeSpan.FromMilliseconds(1), CancellationToken.None);
        await Task.Delay(50);
        var takeover = await Store.ClaimAsync(job.Id, "worker-b", Lease, CancellationToken.None);

        var stale = await Store.SucceedAsync(job.Id, attempt: 1, "\"late\"", CancellationToken.None);

        Assert.That(stale.Applied, Is.False);
        Assert.That(stale.Found!.State, Is.EqualTo(JobState.Running));
        Assert.That(stale.Found.Attempt, Is.EqualTo(takeover!.Attempt));
        Assert.That(stale.ToString(), Does.Contain("found Running at attempt 2"));
        Assert.That((await Store.FindAsync(job.Id, CancellationToken.None))!.Result, Is.Null);
    }

    [Test]
    public async Task A_finished_job_is_never_overwritten()
    {
        var job = await AcceptedAsync();
        var claimed = await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);
        await Store.SucceedAsync(job.Id, claimed!.Attempt, "1", CancellationToken.None);

        var fail = await Store.FailAsync(job.Id, claimed.Attempt, "late failure", willRetry: false, CancellationToken.None);
        var reclaim = await Store.ClaimAsync(job.Id, "worker-b", Lease, CancellationToken.None);

        Assert.That(fail.Applied, Is.False);
        Assert.That(fail.Found!.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(reclaim, Is.Null);
    }

    [Test]
    public async Task A_retried_failure_goes_back_to_pending_and_keeps_the_error()
    {
        var job = await AcceptedAsync();
        var claimed = await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);

        await Store.FailAsync(job.Id, claimed!.Attempt, "transient boom", willRetry: true, CancellationToken.None);

        var row = await Store.FindAsync(job.Id, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Error, Is.EqualTo("transient boom"));
        Assert.That(row.Owner, Is.Null);
        Assert.That(row.FinishedAt, Is.Null);
    }

    [Test]
    public async Task A_final_failure_is_failed_with_its_error()
    {
        var job = await AcceptedAsync();
        var claimed = await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);

        await Store.FailAsync(job.Id, claimed!.Attempt, "fatal", willRetry: false, CancellationToken.None);

        var row = await Store.FindAsync(job.Id, CancellationToken.None);
        Assert.That(row!.State, Is.EqualTo(JobState.Failed));
        Assert.That(row.Error, Is.EqualTo("fatal"));
        Assert.That(row.FinishedAt, Is.Not.Null);
    }

    [Test]
    public async Task Release_returns_an_interrupted_job_to_pending_without_an_error()
    {
        var job = await AcceptedAsync();
        var claimed = await Store.ClaimAsync(job.Id, "worker-a", Lease, CancellationToken.None);

        var released = await Store.ReleaseAsync(job.Id, claimed!.Attempt, CancellationToken.None);

        var row = await Store.FindAsync(job.Id, CancellationToken.None);
        Assert.That(released.Applied, Is.True);
        Assert.That(row!.State, Is.EqualTo(JobState.Pending));
        Assert.That(row.Error, Is.Null);
        Assert.That(row.Owner, Is.Null);
        Assert.That(row.Attempt, Is.EqualTo(1), "the attempt number fences late writes and never goes back");
        Assert.That(row.MaxAttempts, Is.EqualTo(job.MaxAttempts + 1), "an interrupted attempt does not use up the budget");
    }

    [Test]
    public async Task Renewing_leases_extends_only_the_owners_running_jobs()
    {
        var mine = await AcceptedAsync();
        var theirs = await AcceptedAsync();
        var before = await Store.ClaimAsync(mine.Id, "worker-renew", TimeSpan.FromSeconds(5), CancellationToken.None);
        var other = await Store.ClaimAsync(theirs.Id, "worker-other", TimeSpan.FromSeconds(5), CancellationToken.None);

        var renewed = await Store.RenewLeasesAsync("worker-renew", TimeSpan.FromMinutes(10), CancellationToken.None);

        Assert.That(renewed, Is.EqualTo(1));
        Assert.That((await Store.FindAsync(mine.Id, CancellationToken.None))!.LeaseExpiresAt, Is.GreaterThan(before!.LeaseExpiresAt!.Value.AddMinutes(5)));
        Assert.That((await Store.FindAsync(theirs.Id, CancellationToken.None))!.LeaseExpiresAt, Is.EqualTo(other!.LeaseExpiresAt));
    }
}
