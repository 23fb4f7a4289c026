using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>
/// Fleet-wide limits across replica processes, directly and through PgBouncer in transaction mode at once (one replica of
/// each set goes through it): a type limited to 2 at once and 1 per tenant, with a SIGKILLed replica holding a place, beside unlimited jobs; and, alongside, a type
/// limited to 10 starts a second. The ledger is sampled every 100 ms.
/// </summary>
[Category("Slow")]
public sealed class LimitsFaultTests
{
    private static readonly System.Diagnostics.Stopwatch Clock = new();

    private static void Phase(string what) => TestContext.Progress.WriteLine($"[{Clock.Elapsed.TotalSeconds,6:F1} s] {what}");

    [Test, Description("3 replicas (one through PgBouncer); delay limited to 2 at once and 1 per tenant; 40 one-second delay jobs, 200 noop; one replica killed holding a place. Beside it, 2 replicas (one through PgBouncer), noop limited to 10/1s over 100 jobs.")]
    public async Task Limits_hold_across_replicas_a_killed_replica_frees_its_place_and_other_types_run_freely()
    {
        Clock.Restart();
        await LocalServices.StartAsync("pgbouncer");
        // The rate scenario's replicas start once the first scenario's noop jobs are done and it only waits on its limited
        // jobs: five replica processes starting at once on two cores would make neither a fair test.
        await RunConcurrencyAsync(alongside: RunRateAsync);
    }

    private static string ThroughPgBouncer() => new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString(maxPoolSize: 10))
    {
        Port = TestEnvironment.PgBouncerPort,
        MaxAutoPrepare = 0,
        NoResetOnClose = true,
    }.ConnectionString;

    private static async Task RunConcurrencyAsync(Func<Task> alongside)
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 2, new()
        {
            ["Limits:delay:Concurrency"] = "2", ["Limits:delay:PerKeyConcurrency"] = "1", ["Jobs:LeaseDuration"] = "00:00:04",
        });
        scenario.Settings["Database:ConnectionString"] = ThroughPgBouncer();
        await scenario.AddWorkerAsync();
        Phase("concurrency: 3 replicas ready");

        // Tenants a and b (one place each), and jobs with no key, which only the type's two places limit. Due in the
        // order submitted, 10 ms apart from 2.5 s on (after all are accepted): left to the time each is accepted, concurrent deliveries across
        // three replicas once made all of tenant a due before all of tenant b, which then never ran side by side.
        var firstDue = DateTime.UtcNow.AddSeconds(2.5);
        var limited = Enumerable.Range(0, 40).Select(i => TestJobs.Submit("delay", new { ms = 1000 }) with
        {
            ConcurrencyKey = (i % 3) switch { 0 => "tenant-a", 1 => "tenant-b", _ => null },
            RunAt = firstDue.AddMilliseconds(10 * i),
        }).ToList();
        var free = Enumerable.Range(0, 200).Select(_ => TestJobs.Submit("noop")).ToList();
        await using var sampler = LedgerSampler.Start(scenario.Queue, "delay");

        await scenario.SubmitAsync([.. limited, .. free]);
        await scenario.AssertWholePromiseAsync(free, TimeSpan.FromSeconds(60));
        var lastFree = (await TestJobs.LoadAsync(free)).Max(j => j.FinishedAt!.Value);
        Phase("concurrency: noop jobs done");
        // A replica running a delay job that started within the last 300 ms, so that it is still running when the replica dies.
        var owner = await Eventually.WaitForAsync(() => JustStartedOwnerAsync(scenario.Queue), o => o is not null, TimeSpan.FromSeconds(30), "a delay job to start");
        var killedAt = DateTime.UtcNow;
        scenario.KillOwner(owner!);
        var running = await RunningAsync(scenario.Queue, "delay");
        Phase($"killed {owner}; running: {string.Join(", ", running.Select(j => $"{j.Id} {j.Owner}"))}");
        var killed = running.Where(j => j.Owner == owner).ToList();
        var killedIds = killed.Select(j => j.Id).ToHashSet();
        var lapse = killed.Count > 0 ? killed.Max(j => j.LeaseExpiresAt!.Value) : killedAt;
        var rate = alongside();
        Phase($"concurrency: killed a replica holding {killed.Count} place(s)");
        await scenario.AssertWholePromiseAsync([.. limited.Where(j => !killedIds.Contains(j.JobId))], TimeSpan.FromSeconds(90));
        Phase("concurrency: delay jobs done");
        var recovered = await Task.WhenAll(killed.Select(j => TestJobs.WaitForStateAsync(j.Id, JobState.Succeeded, TimeSpan.FromSeconds(30))));
        var samples = await sampler.StopAsync();
        var rows = await TestJobs.LoadAsync(limited);
        var limitedDoneBeforeFree = rows.Count(j => j.FinishedAt < lastFree);
        int Others(Sample s) => s.Live.Count(r => !killedIds.Contains(r.Id));

        try
        {
            Assert.That(killed, Is.Not.Empty, "the killed replica held a place");
            Assert.That(samples, Has.Count.GreaterThan(50), "the ledger was sampled throughout");
            Assert.That(samples.Max(s => s.Live.Count), Is.EqualTo(2), "never more than 2 delay jobs ran with live leases, and 2 did");
            Assert.That(samples.Where(s => s.Live.GroupBy(r => r.Key).Any(g => g.Key is not null && g.Count() > 1)).Select(s => s.At), Is.Empty,
                "never 2 jobs of one tenant at once");
            Assert.That(samples.Any(s => s.Live.Select(r => r.Key).Distinct().Count(k => k is not null) == 2), Is.True, "the two tenants ran side by side");
            Assert.That(samples.Where(s => s.At > killedAt.AddSeconds(0.5) && s.At < lapse.AddSeconds(-0.5)).Select(Others).DefaultIfEmpty().Max(),
                Is.LessThanOrEqualTo(2 - killed.Count), "the killed replica's places stayed taken until their leases lapsed");
            Assert.That(samples.Any(s => s.At > lapse && s.At < lapse.AddSeconds(6) && Others(s) == 2), Is.True,
                "the places freed once the leases lapsed");
            Assert.That(recovered.Select(j => j.Attempt), Has.All.EqualTo(2), "the killed jobs were taken back and run again");
            Assert.That(limitedDoneBeforeFree, Is.LessThan(20), $"the 200 noop jobs finished while most delay jobs still waited ({limitedDoneBeforeFree} of 40 done)");
        }
        finally
        {
            // The scenario alongside ends, and stops its replicas, however this one's checks went.
            await rate;
        }
    }

    private static async Task RunRateAsync()
    {
        await using var scenario = await FaultScenario.StartAsync(workers: 1, new()
        {
            ["Limits:noop:Rate"] = "10/1s", ["Dispatch:Interval"] = "00:00:00.200",
        });
        scenario.Settings["Database:ConnectionString"] = ThroughPgBouncer();
        await scenario.AddWorkerAsync();
        Phase("rate: 2 replicas ready");
        var jobs = Enumerable.Range(0, 100).Select(_ => TestJobs.Submit("noop")).ToList();

        await scenario.SubmitAsync(jobs);
        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(60));
        Phase("rate: jobs done");

        var rows = await TestJobs.LoadAsync(jobs);
        var starts = rows.Select(j => j.StartedAt!.Value).Order().ToList();
        var crowded = Enumerable.Range(0, starts.Count - 10).Where(i => starts[i + 10] - starts[i] < TimeSpan.FromSeconds(1)).ToList();
        var span = starts[^1] - starts[0];
        Assert.That(crowded.Select(i => $"{starts[i]:O}..{starts[i + 10]:O}"), Is.Empty, "never 11 starts within 1 s");
        Assert.That(span, Is.InRange(TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(20)), "100 starts at 10 a second take about 10 s");
    }

    private static async Task<string?> JustStartedOwnerAsync(string queue)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT owner FROM jobs WHERE queue = $1 AND type = 'delay' AND state = 'Running' AND started_at > now() - interval '300 ms' LIMIT 1", connection)
        {
            Parameters = { new() { Value = queue } },
        };
        return await command.ExecuteScalarAsync() as string;
    }

    private static async Task<List<Job>> RunningAsync(string queue, string type)
    {
        await using var db = TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()).CreateDbContext();
        return await db.Jobs.AsNoTracking().Where(j => j.Queue == queue && j.Type == type && j.State == JobState.Running && j.Owner != null).ToListAsync();
    }

    /// <summary>Samples the Running jobs of one type and queue every 100 ms, by the database's clock.</summary>
    private sealed class LedgerSampler : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<List<Sample>> _loop;

        private LedgerSampler(string queue, string type) => _loop = Task.Run(() => LoopAsync(queue, type, _stop.Token));

        public static LedgerSampler Start(string queue, string type) => new(queue, type);

        public async Task<List<Sample>> StopAsync()
        {
            await _stop.CancelAsync();
            return await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        }

        private static async Task<List<Sample>> LoopAsync(string queue, string type, CancellationToken stop)
        {
            var samples = new List<Sample>();
            await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
            await connection.OpenAsync(CancellationToken.None);
            while (!stop.IsCancellationRequested)
            {
                await using var command = new NpgsqlCommand(
                    "SELECT now() AS at, id, concurrency_key FROM (SELECT now()) n LEFT JOIN jobs ON queue = $1 AND type = $2 AND state = 'Running' AND lease_expires_at > now()",
                    connection) { Parameters = { new() { Value = queue }, new() { Value = type } } };
                var live = new List<(Guid Id, string? Key)>();
                DateTime at = default;
                await using (var reader = await command.ExecuteReaderAsync(CancellationToken.None))
                {
                    while (await reader.ReadAsync(CancellationToken.None))
                    {
                        at = reader.GetFieldValue<DateTime>(0);
                        if (!reader.IsDBNull(1))
                        {
                            live.Add((reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
                        }
                    }
                }

                samples.Add(new Sample(at, live));
                try
                {
                    await Task.Delay(100, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return samples;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException)
            {
                // Already reported by the test, or the test failed before its samples were read.
            }

            _stop.Dispose();
        }
    }

    private sealed record Sample(DateTime At, List<(Guid Id, string? Key)> Live);
}
