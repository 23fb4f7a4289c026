using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>The reason JobWorker exists: many long jobs share a tiny pool because no connection is held while a handler runs.</summary>
public sealed class ConnectionEconomyTests
{
    [Test]
    public async Task Fifty_concurrent_two_second_jobs_succeed_on_a_pool_of_two_with_no_connection_busy_while_they_run()
    {
        var applicationName = $"pool2-{Guid.NewGuid():N}"[..16];
        var gate = new HandlerGate();
        using var meter = new NpgsqlPoolUsage();
        await using var worker = await TestWorker.StartAsync(
            new()
            {
                ["Database:ConnectionString"] = TestEnvironment.ConnectionString(maxPoolSize: 2, applicationName),
                ["Jobs:ConcurrentJobs"] = "50",

                // The worker's own duties (dispatcher ticks, lease renewals) are short statements too; spaced out here, so
                // that a sample of the pool while the handlers run sees what the handlers hold, and only that.
                ["Dispatch:Interval"] = "00:01:00",
                ["Jobs:LeaseDuration"] = "00:01:00",
            },
            worker => worker.AddJobHandler<GateJobHandler>(GateJobHandler.JobType).Services.AddSingleton(gate));
        await using var client = await TestClient.StartAsync(worker.Queue);
        var jobs = Enumerable.Range(0, 50).Select(_ => TestJobs.Submit(GateJobHandler.JobType, new { ms = 2_000 })).ToList();

        await client.SendAsync(worker.Queue, jobs);
        await Eventually.WaitForAsync(() => Task.FromResult(gate.Inside), inside => inside == 50, TimeSpan.FromSeconds(30), "all 50 handlers to be running at once");
        var relay = worker.Services.GetRequiredService<JobEventRelay>();
        await Eventually.WaitForAsync(() => Task.FromResult(relay.Pending), pending => pending == 0, TimeSpan.FromSeconds(5),
            "the 50 JobStarted events to be published and removed from the outbox");
        var pool = worker.Services.GetRequiredService<JobDatabase>().PoolName;
        var (busyInPool, _, poolMax) = meter.Read(pool);
        var busyOnServer = await BusyOnServerAsync(applicationName);
        var stillInside = gate.Inside;

        var counts = await TestJobs.WaitUntilFinishedAsync(jobs, TimeSpan.FromSeconds(60));
        Assert.That(stillInside, Is.EqualTo(50), "the samples must be taken while every handler is still running");
        Assert.That(poolMax, Is.EqualTo(2), "the meter must be reading this worker's pool");
        Assert.That(busyInPool, Is.Zero, "Npgsql pool: connections in use while the handlers run");
        Assert.That(busyOnServer, Is.Zero, "pg_stat_activity: non-idle connections of this worker while the handlers run");
        Assert.That(counts.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(50), TestJobs.Describe(counts));
        Assert.That(meter.Timeouts(pool), Is.Zero, "pool timeouts");
    }

    private static async Task<long> BusyOnServerAsync(string applicationName)
    {
        await using var admin = new NpgsqlConnection(TestEnvironment.AdminConnectionString(TestEnvironment.DatabaseName));
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'", admin)
        {
            Parameters = { new() { Value = applicationName } },
        };
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
