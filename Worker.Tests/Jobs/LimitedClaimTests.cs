using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Tests.Jobs;

/// <summary>The limited claim and the dispatcher's limit-aware take, on the real database; each test limits a type of its own.</summary>
public sealed class LimitedClaimTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static JobStore Store => TestJobs.Store;

    private static string UniqueType() => $"limited-{Guid.NewGuid():N}";

    private static async Task<Guid> AcceptedAsync(string type, string? key = null, string queue = "")
    {
        var job = new NewJob(Guid.NewGuid(), type, "{}", 3, null, null, Queue: queue, ConcurrencyKey: key);
        Assert.That(await Store.AcceptAsync(job, CancellationToken.None), Is.True);
        return job.Id;
    }

    private static Task<LimitedClaim> ClaimAsync(Guid id, LimitRule rule, TimeSpan? lease = null) =>
        Store.ClaimLimitedAsync(id, rule, "worker-a", Guid.NewGuid(), lease ?? Lease, CancellationToken.None);

    [Test, Description("Two places: the third claim is held (Pending, unsent) and takes the place a lapsed lease frees.")]
    public async Task Limited_claim_holds_a_job_over_the_limit_until_a_lease_lapses()
    {
        var type = UniqueType();
        var rule = new LimitRule(type, 2, null, null);
        var ids = new[] { await AcceptedAsync(type), await AcceptedAsync(type), await AcceptedAsync(type) };

        var first = await ClaimAsync(ids[0], rule, lease: TimeSpan.FromSeconds(1));
        var second = await ClaimAsync(ids[1], rule);
        var third = await ClaimAsync(ids[2], rule);
        var held = await TestJobs.FindAsync(ids[2]);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var afterLapse = await ClaimAsync(ids[2], rule);

        Assert.That(first.Claimed?.State, Is.EqualTo(JobState.Running));
        Assert.That(second.Claimed?.State, Is.EqualTo(JobState.Running));
        Assert.That(third.Claimed, Is.Null);
        Assert.That(third.Limit, Is.EqualTo("Concurrency"));
        Assert.That(held!.State, Is.EqualTo(JobState.Pending));
        Assert.That(held.Attempt, Is.Zero, "a held job uses no attempt");
        Assert.That(held.DispatchedAt, Is.Null, "a held job is unsent, for the dispatcher to send when there is room");
        Assert.That(afterLapse.Claimed?.State, Is.EqualTo(JobState.Running), "a lapsed lease is no longer a place in use");
    }

    [Test, Description("Claims racing for two places: exactly two win, whatever the interleaving (the lock is its own statement).")]
    public async Task Limited_claims_at_once_never_admit_more_than_the_limit()
    {
        var type = UniqueType();
        var rule = new LimitRule(type, 2, null, null);
        var ids = new List<Guid>();
        for (var i = 0; i < 16; i++)
        {
            ids.Add(await AcceptedAsync(type));
        }

        var claims = await Task.WhenAll(ids.Select(id => Task.Run(() => ClaimAsync(id, rule))));

        Assert.That(claims.Count(c => c.Claimed is not null), Is.EqualTo(2));
        Assert.That(claims.Count(c => c.Limit == "Concurrency"), Is.EqualTo(14));
    }

    [Test, Description("A cancel that commits while a limited claim waits for the row wins: the claim neither runs nor holds the Cancelled job.")]
    public async Task Limited_claim_waiting_on_a_cancel_leaves_the_cancelled_job_alone()
    {
        var type = UniqueType();
        var rule = new LimitRule(type, 2, null, null);
        var id = await AcceptedAsync(type);

        await using var connection = new Npgsql.NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var cancel = await connection.BeginTransactionAsync();
        await using (var command = new Npgsql.NpgsqlCommand(
            "UPDATE jobs SET state = 'Cancelled', error = 'operator', finished_at = now() WHERE id = $1", connection, cancel))
        {
            command.Parameters.AddWithValue(id);
            Assert.That(await command.ExecuteNonQueryAsync(), Is.EqualTo(1));
        }

        var claim = Task.Run(() => ClaimAsync(id, rule));
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.That(claim.IsCompleted, Is.False, "the claim waits for the row the cancel holds");
        await cancel.CommitAsync();
        var result = await claim.WaitAsync(TimeSpan.FromSeconds(30));
        var row = await TestJobs.FindAsync(id);

        Assert.That(result.Claimed, Is.Null);
        Assert.That(row!.State, Is.EqualTo(JobState.Cancelled));
        Assert.That(row.Attempt, Is.Zero, "no attempt was started on the cancelled job");
    }

    [Test, Description("Per key: a second job of one key is held while another key runs beside the first.")]
    public async Task Per_key_limit_holds_only_the_key_at_its_limit()
    {
        var type = UniqueType();
        var rule = new LimitRule(type, null, 1, null);
        var a1 = await AcceptedAsync(type, "tenant-a");
        var a2 = await AcceptedAsync(type, "tenant-a");
        var b1 = await AcceptedAsync(type, "tenant-b");
        var none = await AcceptedAsync(type);

        var claims = new[] { await ClaimAsync(a1, rule), await ClaimAsync(a2, rule), await ClaimAsync(b1, rule), await ClaimAsync(none, rule) };

        Assert.That(claims.Select(c => c.Claimed is not null), Is.EqualTo(new[] { true, false, true, true }));
        Assert.That(claims[1].Limit, Is.EqualTo("PerKeyConcurrency"));
        Assert.That((await TestJobs.FindAsync(a1))!.ConcurrencyKey, Is.EqualTo("tenant-a"));
    }

    [Test, Description("Rate 3/1m: the fourth start in the window is held, and not due again until the window has room.")]
    public async Task Rate_limit_holds_a_start_over_the_rate_until_the_window_has_room()
    {
        var type = UniqueType();
        var rule = new LimitRule(type, null, null, new LimitRate(3, TimeSpan.FromMinutes(1)));
        var ids = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await AcceptedAsync(type));
        }

        var claims = new List<LimitedClaim>();
        foreach (var id in ids)
        {
            claims.Add(await ClaimAsync(id, rule));
        }

        var firstStart = (await TestJobs.FindAsync(ids[0]))!.StartedAt!.Value;
        var held = await TestJobs.FindAsync(ids[3]);
        Assert.That(claims.Count(c => c.Claimed is not null), Is.EqualTo(3));
        Assert.That(claims[3].Limit, Is.EqualTo("Rate"));
        Assert.That(held!.RunAt, Is.EqualTo(firstStart.AddMinutes(1)).Within(TimeSpan.FromMilliseconds(1)), "due again when the oldest start leaves the window");
        var usage = await Store.LimitUsageAsync(rule, CancellationToken.None);
        Assert.That(usage.StartsInWindow, Is.EqualTo(3));
        Assert.That(usage.InUse, Is.EqualTo(3));
    }

    [Test, Description("The dispatcher's takes: the ordinary one leaves a limited type alone, the limited one sends only what has room.")]
    public async Task Dispatcher_takes_no_more_of_a_limited_type_than_its_room()
    {
        var queue = TestWorker.UniqueQueue();
        var type = UniqueType();
        var rule = new LimitRule(type, 3, 1, null);
        var running = await AcceptedAsync(type, "a", queue);
        Assert.That((await ClaimAsync(running, rule)).Claimed, Is.Not.Null);
        var waiting = new List<Guid>();
        foreach (var key in new[] { "a", "a", "b", "b", "c", "c" })
        {
            var id = await AcceptedAsync(type, key, queue);
            await Store.UndispatchAsync([id], CancellationToken.None);
            waiting.Add(id);
        }

        var ordinary = await Store.TakeDueAsync(queue, 500, TimeSpan.FromMinutes(5), CancellationToken.None, [type]);
        var limited = await Store.TakeLimitedAsync(queue, rule, 500, TimeSpan.FromMinutes(5), CancellationToken.None);
        var again = await Store.TakeLimitedAsync(queue, rule, 500, TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.That(ordinary, Is.Empty, "a limited type is not in the ordinary batch");
        Assert.That(limited.Select(j => j.Id), Is.EquivalentTo(new[] { waiting[2], waiting[4] }),
            "two places are left of three, key a is at its limit, one each of b and c");
        Assert.That(again, Is.Empty, "jobs sent and not yet claimed hold their places");
    }
}
