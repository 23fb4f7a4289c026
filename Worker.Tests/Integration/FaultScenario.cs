using JobWorker.Contracts;
using JobWorker.Jobs;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>
/// The shared shape of the fault tests: real worker processes on a queue of their own, a batch of jobs, a fault
/// injected while they run, and the checks that follow every fault: every job finished as expected, and none
/// was reported finished twice.
/// </summary>
public sealed class FaultScenario : IAsyncDisposable
{
    /// <summary>Settings that make recovery quick enough for a test: short backoff cap, breaker and lease.</summary>
    public static Dictionary<string, string?> FastRecovery() => new()
    {
        ["Resilience:RetryMaxDelay"] = "00:00:01",
        ["Resilience:BreakerBreakDuration"] = "00:00:01",
        ["Resilience:BreakerSamplingDuration"] = "00:00:05",
        ["Jobs:LeaseDuration"] = "00:00:04",
        ["Jobs:ConcurrentJobs"] = "64",
    };

    private FaultScenario(string queue, List<WorkerProcess> workers, TestClient client)
    {
        Queue = queue;
        Workers = workers;
        Client = client;
    }

    public string Queue { get; }
    public List<WorkerProcess> Workers { get; }
    public TestClient Client { get; }
    public string Output => string.Join("\n", Workers.Select(w => w.Output));

    public static async Task<FaultScenario> StartAsync(int workers = 1, Dictionary<string, string?>? settings = null)
    {
        var queue = TestWorker.UniqueQueue();
        var configuration = FastRecovery();
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        var processes = new List<WorkerProcess>();
        for (var i = 0; i < workers; i++)
        {
            processes.Add(await WorkerProcess.StartWorkerAsync(queue, configuration));
        }

        return new FaultScenario(queue, processes, await TestClient.StartAsync());
    }

    public Task SubmitAsync(IEnumerable<SubmitJob> jobs) => Client.SendAsync(Queue, jobs);

    /// <summary>Waits (bounded) until at least <paramref name="count"/> of the jobs have Succeeded: the fault then lands mid-run.</summary>
    public Task WaitForProgressAsync(IReadOnlyCollection<SubmitJob> jobs, int count) =>
        Eventually.WaitForAsync(() => TestJobs.CountAsync(jobs), c => c.GetValueOrDefault(JobState.Succeeded) >= count,
            TimeSpan.FromSeconds(60), $"{count} jobs to succeed before the fault");

    /// <summary>
    /// Every job Succeeded, none was reported finished twice, and nothing reached the error queue. With
    /// <paramref name="everyEventArrives"/>, each job's JobSucceeded must also have reached the client (not so
    /// when the broker itself restarts: events published into the gap are lost, the store is the record).
    /// </summary>
    public async Task AssertAllSucceededOnceAsync(IReadOnlyCollection<SubmitJob> jobs, TimeSpan timeout, bool everyEventArrives = true)
    {
        var counts = await TestJobs.WaitUntilFinishedAsync(jobs, timeout);
        Assert.That(counts.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(jobs.Count), TestJobs.Describe(counts));
        if (everyEventArrives)
        {
            await Eventually.WaitForAsync(
                () => Task.FromResult(jobs.Count(j => Client.Events.Succeeded(j.JobId) >= 1)),
                reported => reported == jobs.Count, TimeSpan.FromSeconds(30), "a JobSucceeded event for every job");
        }

        Assert.That(Client.Events.CompletedMoreThanOnce(jobs), Is.Empty, "jobs reported finished more than once");
        using var rabbit = new RabbitManagement();
        Assert.That(await rabbit.PeekAsync($"{Queue}_error"), Is.Empty, "messages in the error queue");
    }

    /// <summary>pg_terminate_backend on every connection the worker processes hold; returns how many were terminated.</summary>
    public static async Task<long> TerminateWorkerConnectionsAsync()
    {
        await using var admin = new NpgsqlConnection(TestEnvironment.AdminConnectionString());
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'jobworker/%'", admin)
        {
            Parameters = { new() { Value = TestEnvironment.DatabaseName } },
        };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in Workers)
        {
            await worker.DisposeAsync();
        }

        await Client.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
    }
}
