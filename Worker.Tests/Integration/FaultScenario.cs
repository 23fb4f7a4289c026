using JobWorker.Hosting;
using JobWorker.Contracts;
using Npgsql;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>
/// The shared shape of the fault tests: real worker processes on a queue of their own, a batch of jobs, a fault
/// injected while they run, and the checks that follow every fault (<see cref="AssertWholePromiseAsync"/>).
/// </summary>
internal sealed class FaultScenario : IAsyncDisposable
{
    /// <summary>Settings that make recovery quick enough for a test: short backoff cap, breaker and lease.</summary>
    public static Dictionary<string, string?> FastRecovery() => new()
    {
        ["Resilience:TransitionRetryMaxDelay"] = "00:00:01",
        ["Resilience:BreakerBreakDuration"] = "00:00:01",
        ["Resilience:BreakerSamplingDuration"] = "00:00:05",
        ["Jobs:LeaseDuration"] = "00:00:04",
        ["Jobs:ConcurrentJobs"] = "64",
        ["Dispatch:Interval"] = "00:00:00.500",
        ["Dispatch:EventRetryAfter"] = "00:00:03",
        ["RabbitMq:PublishTimeout"] = "00:00:03",
    };

    private FaultScenario(string queue, List<WorkerProcess> workers, TestClient client, Dictionary<string, string?> settings)
    {
        Queue = queue;
        Workers = workers;
        Client = client;
        Settings = settings;
    }

    /// <summary>The settings the replicas run with.</summary>
    public Dictionary<string, string?> Settings { get; }

    /// <summary>Starts one more replica with the scenario's settings.</summary>
    public async Task<WorkerProcess> AddWorkerAsync()
    {
        var worker = await TestWorker.StartProcessAsync(Queue, Settings);
        Workers.Add(worker);
        return worker;
    }

    public string Queue { get; }
    public List<WorkerProcess> Workers { get; }
    public TestClient Client { get; }
    public string Output => string.Join("\n", Workers.Select(w => w.Output));

    public static async Task<FaultScenario> StartAsync(int workers = 1, Dictionary<string, string?>? settings = null)
    {
        var queue = TestWorker.UniqueQueue();
        var configuration = TestWorker.Overlay(FastRecovery(), settings);

        // The replicas start together, as a deployment's do: a start is mostly waiting (the runtime, the broker, readiness),
        // so one after the other cost a start per replica.
        var starting = Enumerable.Range(0, workers).Select(_ => TestWorker.StartProcessAsync(queue, configuration)).ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }

        var processes = starting.Select(t => t.Result).ToList();

        // The client reaches the broker as the replicas do: the same nodes, and its events queue of the same type.
        var broker = configuration.Where(s => s.Key.StartsWith("RabbitMq:Hosts", StringComparison.Ordinal) || s.Key == "RabbitMq:QueueType")
            .ToDictionary(s => s.Key, s => s.Value);
        return new FaultScenario(queue, processes, await TestClient.StartAsync(queue, broker), configuration);
    }

    public Task SubmitAsync(IEnumerable<SubmitJob> jobs) => Client.SendAsync(Queue, jobs);

    /// <summary>Waits (bounded) until at least <paramref name="count"/> of the jobs have Succeeded: the fault then lands mid-run.</summary>
    public Task WaitForProgressAsync(IReadOnlyCollection<SubmitJob> jobs, int count) =>
        Eventually.WaitForAsync(() => TestJobs.CountAsync(jobs), c => c.GetValueOrDefault(JobState.Succeeded) >= count,
            TimeSpan.FromSeconds(60), $"{count} jobs to succeed before the fault");

    /// <summary>
    /// The whole promise after a fault: every job Succeeded; none ran twice (each was claimed once, and one JobStarted
    /// was recorded for it); with <paramref name="everyEventArrives"/>, its JobSucceeded reached the client's queue at
    /// least once; no job was reported finished twice; nothing went to the error queue; no slot is left in flight on any
    /// replica and nothing waits for one; no replica exited; and every replica says it is ready.
    /// </summary>
    public async Task AssertWholePromiseAsync(IReadOnlyCollection<SubmitJob> jobs, TimeSpan timeout, bool everyEventArrives = true, bool ranOnce = true)
    {
        var counts = await TestJobs.WaitUntilFinishedAsync(jobs, timeout);
        Assert.That(counts.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(jobs.Count), TestJobs.Describe(counts));
        if (ranOnce)
        {
            var rows = await TestJobs.LoadAsync(jobs);
            var again = rows.Where(r => r.Attempt != 1).ToList();
            Assert.That(again.Select(r => $"{r.Id} attempt {r.Attempt}"), Is.Empty,
                $"a job ran more than once; what the replicas said of the first:\n{string.Join("\n", again.Take(1).SelectMany(r => Output.Split('\n').Where(l => l.Contains(r.Id.ToString(), StringComparison.Ordinal))))}");
        }

        if (everyEventArrives)
        {
            await Eventually.WaitForAsync(
                () => Task.FromResult(jobs.Count(j => Client.Events.Succeeded(j.JobId) >= 1)),
                reported => reported == jobs.Count, TimeSpan.FromSeconds(60), "a JobSucceeded event for every job");
            if (ranOnce)
            {
                Assert.That(jobs.Where(j => Client.Events.Started(j.JobId) != 1).Select(j => j.JobId), Is.Empty, "one JobStarted per job");
            }
        }

        Assert.That(Client.Events.CompletedMoreThanOnce(jobs), Is.Empty, "jobs reported finished more than once");
        using var rabbit = new RabbitManagement();
        Assert.That(await rabbit.PeekAsync($"{Queue}_error"), Is.Empty, "messages in the error queue");
        await AssertReplicasIdleAndReadyAsync();
    }

    /// <summary>Every replica is still the process the test started, has no slot in flight, and is live and ready.</summary>
    public async Task AssertReplicasIdleAndReadyAsync()
    {
        foreach (var worker in Workers.Where(w => !StoppedOnPurpose.Contains(w)))
        {
            Assert.That(worker.HasExited, Is.False, $"replica {worker.Id} exited:\n{worker.Output}");
            var slots = await Eventually.WaitForAsync(worker.SlotsAsync, s => s is { Busy: 0, Waiting: 0 }, TimeSpan.FromSeconds(30),
                $"replica {worker.Id} to report no job in flight");
            Assert.That(slots.Live, Is.True, "liveness");
            try
            {
                await Eventually.WaitForAsync(worker.IsReadyAsync, ready => ready, TimeSpan.FromSeconds(60), $"replica {worker.Id} to be ready");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var output = worker.Output;
                Assert.Fail($"{e.Message}\nreadiness: {await worker.ReadinessReportAsync()}\nlast output:\n{output[Math.Max(0, output.Length - 6000)..]}");
            }
        }
    }

    /// <summary>The replicas the test killed or stopped on purpose; the others must stay up.</summary>
    public HashSet<WorkerProcess> StoppedOnPurpose { get; } = [];

    /// <summary>SIGKILLs the replica whose id is in <paramref name="owner"/> (the jobs table's owner column).</summary>
    public WorkerProcess KillOwner(string owner)
    {
        var victim = Workers.Single(w => owner.Contains($"-{w.Id}-", StringComparison.Ordinal));
        StoppedOnPurpose.Add(victim);
        victim.Kill();
        return victim;
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

        // Each replica's log, kept with the test's results for whoever reads a failure.
        var logs = Path.Combine(TestContext.CurrentContext.WorkDirectory, "worker-logs");
        Directory.CreateDirectory(logs);
        for (var i = 0; i < Workers.Count; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(logs, $"{string.Concat(TestContext.CurrentContext.Test.Name.Split(Path.GetInvalidFileNameChars()))}-replica-{i + 1}.log"), Workers[i].Output);
        }

        await Client.DisposeAsync();
        using var rabbit = new RabbitManagement();
        await rabbit.DeleteWorkerQueuesAsync(Queue);
        NpgsqlConnection.ClearAllPools();
    }
}
