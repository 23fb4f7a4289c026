using System.Net;
using System.Net.Sockets;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace JobWorker.Tests.Messaging;

/// <summary>
/// The start's priority probe failing (RabbitMQ away), then RabbitMQ answering: on the real broker, each test with a jobs
/// queue of its own, and a lifetime that records whether the worker was stopped.
/// </summary>
public sealed class JobQueuePriorityRecheckTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public bool StopRequested { get; private set; }

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => StopRequested = true;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static RabbitMqOptions Rabbit() => new() { Host = TestEnvironment.Host, Port = TestEnvironment.RabbitPort, PublishTimeout = TimeSpan.FromSeconds(5) };

    private static async Task WithQueueAsync(string queue, Dictionary<string, object?>? arguments, Func<Task> test)
    {
        await using var connection = await Rabbit().ConnectAsync("jobworker-test", CancellationToken.None);
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);
        try
        {
            await test();
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
        }
    }

    /// <summary>A probe that could not reach RabbitMQ, as at a start while it was away; then RabbitMQ answers.</summary>
    private static JobQueuePriority UncheckedPriority(string queue)
    {
        var rabbit = Rabbit();
        rabbit.Port = ClosedPort();
        var priority = new JobQueuePriority(Options.Create(rabbit), Options.Create(new JobOptions { QueueName = queue }), LoggerFactory.Create(_ => { }).CreateLogger<JobQueuePriority>());
        Assert.That(priority.IsPriorityQueue(queue), Is.True, "unchecked, the jobs queue is declared with x-max-priority");
        Assert.That(priority.Unchecked, Is.True);
        rabbit.Port = TestEnvironment.RabbitPort;
        return priority;
    }

    private static async Task<(Lifetime Lifetime, int ExitCode, List<LogCapture.Entry> Logs)> RecheckAsync(JobQueuePriority priority)
    {
        var lifetime = new Lifetime();
        var logs = new LogCapture();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var recheck = new JobQueuePriorityRecheck(priority, lifetime, factory.CreateLogger<JobQueuePriorityRecheck>())
        {
            Interval = TimeSpan.FromMilliseconds(100),
        };
        try
        {
            await recheck.StartAsync(CancellationToken.None);
            await recheck.ExecuteTask!.WaitAsync(Timeout);
            return (lifetime, Environment.ExitCode, [.. logs.Entries]);
        }
        finally
        {
            Environment.ExitCode = 0;
            await recheck.StopAsync(CancellationToken.None);
        }
    }

    [Test, Description("Review finding: a start with RabbitMQ away declared an upgraded 0.12 jobs queue with x-max-priority, refused for ever, and nothing noticed.")]
    public async Task Recheck_stops_the_worker_when_an_unchecked_queue_lacks_the_priority_argument()
    {
        var queue = TestWorker.UniqueQueue();
        await WithQueueAsync(queue, null, async () =>
        {
            var (lifetime, exitCode, logs) = await RecheckAsync(UncheckedPriority(queue));

            Assert.That(lifetime.StopRequested, Is.True);
            Assert.That(exitCode, Is.EqualTo(1), "non-zero, so the orchestrator restarts it and the next probe decides");
            var critical = logs.Where(e => e.Level == LogLevel.Critical).Select(e => e.Message).ToList();
            Assert.That(critical, Has.Count.EqualTo(1));
            Assert.That(critical[0], Does.Contain(queue).And.Contain("\"Moving the jobs queue to a priority queue\""));
        });
    }

    [Test]
    public async Task Recheck_lets_the_worker_run_when_the_unchecked_queue_is_a_priority_queue()
    {
        var queue = TestWorker.UniqueQueue();
        await WithQueueAsync(queue, new() { [Headers.XMaxPriority] = (int)JobQueuePriority.MaxPriority }, async () =>
        {
            var (lifetime, exitCode, logs) = await RecheckAsync(UncheckedPriority(queue));

            Assert.That(lifetime.StopRequested, Is.False);
            Assert.That(exitCode, Is.Zero);
            Assert.That(logs.Select(e => e.Level), Has.None.EqualTo(LogLevel.Critical));
        });
    }

    [Test, Description("A start whose probe answered decided right already: the queue lacking the argument is used as it is.")]
    public async Task Recheck_does_nothing_when_the_start_probe_answered()
    {
        var queue = TestWorker.UniqueQueue();
        await WithQueueAsync(queue, null, async () =>
        {
            var priority = new JobQueuePriority(Options.Create(Rabbit()), Options.Create(new JobOptions { QueueName = queue }), LoggerFactory.Create(_ => { }).CreateLogger<JobQueuePriority>());
            Assert.That(priority.IsPriorityQueue(queue), Is.False);

            var (lifetime, exitCode, _) = await RecheckAsync(priority);

            Assert.That(priority.Unchecked, Is.False);
            Assert.That(lifetime.StopRequested, Is.False);
            Assert.That(exitCode, Is.Zero);
        });
    }

    [Test, Description("The whole path in a real worker process: RabbitMQ away at its start, answering a few seconds later; the worker exits 1 naming the queue and the section (before: a bare PRECONDITION_FAILED until MassTransit's start timed out).")]
    public async Task Worker_exits_non_zero_when_RabbitMQ_answers_after_start_and_the_queue_lacks_the_priority_argument()
    {
        var queue = TestWorker.UniqueQueue();
        using var rabbit = new RabbitManagement();
        await rabbit.DeclareQueueAsync(queue);
        using var late = new LateTcpForwarder(TestEnvironment.RabbitPort);
        try
        {
            var settings = TestWorker.Overlay(TestWorker.TestSettings(queue), new Dictionary<string, string?> { ["RabbitMq:Port"] = late.Port.ToString(), ["Logging:LogLevel:Default"] = "Information" });
            await using var worker = WorkerProcess.Start(TestWorker.Executable, settings, "run");
            await Eventually.WaitForAsync(() => Task.FromResult(worker.Output), output => output.Contains("Could not check whether the jobs queue is a priority queue", StringComparison.Ordinal),
                Timeout, "the worker's start-up priority probe to fail");
            late.Open();

            var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(90));

            Assert.That(exitCode, Is.EqualTo(1), worker.Output);
            Assert.That(worker.Output, Does.Contain($"Queue(s) {queue} exist without x-max-priority, but RabbitMQ did not answer").And.Contain("\"Moving the jobs queue to a priority queue\""));
        }
        finally
        {
            await rabbit.DeleteWorkerQueuesAsync(queue);
        }
    }
}
