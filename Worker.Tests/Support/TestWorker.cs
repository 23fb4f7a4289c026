using JobWorker.Hosting;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Tests;

/// <summary>
/// A complete worker in this process, composed with the public <c>AddJobWorker()</c>, on real PostgreSQL and (unless
/// <c>inMemoryBus</c>) real RabbitMQ, with its own queue; and the launcher of <c>jobworker</c> processes on the same settings.
/// </summary>
internal sealed class TestWorker : IAsyncDisposable
{
    private TestWorker(IHost host, string queue)
    {
        Host = host;
        Queue = queue;
    }

    public IHost Host { get; }
    public string Queue { get; }
    public IServiceProvider Services => Host.Services;

    /// <summary>MassTransit's test harness, when the worker runs on its in-memory bus.</summary>
    public ITestHarness Harness => Services.GetTestHarness();

    /// <summary>Runs of the <see cref="RecordingJobHandler"/> (job type <c>record</c>) every test worker has.</summary>
    public HandlerRuns Runs => Services.GetRequiredService<HandlerRuns>();

    /// <summary>
    /// Starts a worker with the built-in handlers and <see cref="RecordingJobHandler"/>, on the test settings with
    /// <paramref name="settings"/> on top; <paramref name="worker"/> adds to its composition. With
    /// <paramref name="inMemoryBus"/>, MassTransit's test harness replaces the RabbitMQ transport and keeps the consumers.
    /// </summary>
    public static async Task<TestWorker> StartAsync(
        Dictionary<string, string?>? settings = null, Action<JobWorkerBuilder>? worker = null, int maxPoolSize = 20, bool inMemoryBus = false)
    {
        var configuration = Overlay(TestSettings(UniqueQueue(), maxPoolSize), settings);

        var queue = configuration["Jobs:QueueName"]!;

        var host = JobWorkerHost.BuildWorker(builder =>
        {
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Services.AddSingleton<HandlerRuns>();
            var composed = builder.AddJobWorker().AddBuiltInHandlers().AddJobHandler<RecordingJobHandler>(RecordingJobHandler.JobType);
            worker?.Invoke(composed);
            if (inMemoryBus)
            {
                builder.Services.AddMassTransitTestHarness();
                builder.Services.Configure<TestHarnessOptions>(o => o.TestTimeout = TimeSpan.FromSeconds(20));
            }
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return new TestWorker(host, queue);
    }

    /// <summary>The stock <c>jobworker</c>, beside the tests' own assembly.</summary>
    public static string Executable => Path.Combine(AppContext.BaseDirectory, "jobworker.dll");

    /// <summary>
    /// Starts a <c>jobworker run</c> replica (or <paramref name="assembly"/>'s) on <paramref name="queue"/> with the test
    /// settings and <paramref name="settings"/> on top, and waits (bounded) until <c>/health/ready</c> says it is ready.
    /// </summary>
    public static Task<WorkerProcess> StartProcessAsync(string queue, Dictionary<string, string?>? settings = null, string? assembly = null)
    {
        var configuration = Overlay(TestSettings(queue), settings);
        configuration["Logging:LogLevel:Default"] = settings?.GetValueOrDefault("Logging:LogLevel:Default") ?? "Information";
        return WorkerProcess.StartReplicaAsync(assembly ?? Executable, configuration, TimeSpan.FromSeconds(60));
    }

    /// <summary><paramref name="overlay"/>'s settings on top of <paramref name="settings"/> (which it changes and returns).</summary>
    public static Dictionary<string, string?> Overlay(Dictionary<string, string?> settings, IReadOnlyDictionary<string, string?>? overlay)
    {
        foreach (var (key, value) in overlay ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static string UniqueQueue() => $"jw-test-{Guid.NewGuid():N}"[..20];

    /// <summary>The settings a test worker (in or out of process) runs with: the test database and a queue of its own.</summary>
    public static Dictionary<string, string?> TestSettings(string queue, int maxPoolSize = 20) => new()
    {
        ["Database:ConnectionString"] = TestEnvironment.ConnectionString(maxPoolSize),
        ["RabbitMq:Host"] = TestEnvironment.Host,
        ["RabbitMq:Port"] = TestEnvironment.RabbitPort.ToString(),
        ["Jobs:QueueName"] = queue,
        ["Retries:BaseDelay"] = "00:00:00.050",
        ["Retries:MaxDelay"] = "00:00:00.200",
        ["Jobs:DrainTimeout"] = "00:00:05",
        ["Dispatch:Interval"] = "00:00:00.100",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Health:Port"] = "0",
        ["Telemetry:StatusInterval"] = "00:00:01",
    };

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Host.StopAsync(timeout.Token);
        Host.Dispose();
        using var rabbit = new RabbitManagement();
        await rabbit.DeleteWorkerQueuesAsync(Queue);
    }
}
