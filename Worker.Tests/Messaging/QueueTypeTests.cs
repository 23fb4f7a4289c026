using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Messaging;

/// <summary><c>RabbitMq:QueueType</c> on the single local node, where quorum queues work with one member.</summary>
public sealed class QueueTypeTests
{
    private static readonly Dictionary<string, string?> Quorum = new() { ["RabbitMq:QueueType"] = "quorum" };

    [Test]
    public async Task Quorum_setting_declares_the_job_cancel_and_status_queues_as_quorum()
    {
        await using var worker = await TestWorker.StartAsync(Quorum);
        using var rabbit = new RabbitManagement();

        foreach (var queue in new[] { worker.Queue, $"{worker.Queue}-cancel", $"{worker.Queue}-status" })
        {
            Assert.That(await rabbit.QueueTypeAsync(queue), Is.EqualTo("quorum"), queue);
        }
    }

    [Test, Description("The per-replica notice queue lives and dies with its connection: it stays classic and exclusive.")]
    public async Task Quorum_setting_leaves_the_notice_queue_classic_and_exclusive()
    {
        await using var worker = await TestWorker.StartAsync(Quorum);
        using var rabbit = new RabbitManagement();

        var notice = QueueNames.CancelNotices(new JobOptions { QueueName = worker.Queue }, worker.Services.GetRequiredService<WorkerIdentity>());
        var queue = await rabbit.QueueAsync(notice);
        Assert.That(queue.GetProperty("type").GetString(), Is.EqualTo("classic"));
        Assert.That(queue.GetProperty("exclusive").GetBoolean(), Is.True);
    }

    [Test]
    public async Task Jobs_sent_to_a_quorum_queue_succeed_and_their_status_is_answered()
    {
        await using var worker = await TestWorker.StartAsync(Quorum);
        await using var client = await TestClient.StartAsync(worker.Queue, Quorum);
        var jobs = TestJobs.Delays(50, 10);

        await client.SendAsync(worker.Queue, jobs);

        var counts = await TestJobs.WaitUntilFinishedAsync(jobs, TimeSpan.FromSeconds(60));
        Assert.That(counts.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(jobs.Count), TestJobs.Describe(counts));
        var status = await client.RequestStatusAsync(jobs[0].JobId);
        Assert.That(status.State, Is.EqualTo(nameof(JobState.Succeeded)));
    }

    [Test, Description("The job broker's cancel is sent to the quorum cancel queue's exchange, which the replica's notice queue is bound to.")]
    public async Task A_cancel_sent_through_the_job_broker_stops_a_running_job_on_quorum_queues()
    {
        await using var worker = await TestWorker.StartAsync(Quorum);
        await using var client = await TestClient.StartAsync(worker.Queue, Quorum);
        var job = TestJobs.Submit("delay", new { ms = 60_000 });
        await client.SendAsync(worker.Queue, [job]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Running, TimeSpan.FromSeconds(30));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await worker.Services.GetRequiredService<IJobBroker>().PublishCancelAsync(job.JobId, "operator request", timeout.Token);

        var cancelled = await TestJobs.WaitForStateAsync(job.JobId, JobState.Cancelled, TimeSpan.FromSeconds(30));
        Assert.That(cancelled.Error, Is.EqualTo("operator request"));
    }

    [Test, Description("MassTransit copies the queue's arguments to its error queue, so dead letters are replicated too.")]
    public async Task A_rejected_submission_lands_in_a_quorum_error_queue()
    {
        await using var worker = await TestWorker.StartAsync(Quorum);
        await using var client = await TestClient.StartAsync(worker.Queue, Quorum);
        using var rabbit = new RabbitManagement();

        await client.SendAsync(worker.Queue, [TestJobs.Submit("no-such-type")]);

        var moved = await rabbit.WaitForMessagesAsync($"{worker.Queue}_error", 1, TimeSpan.FromSeconds(30));
        Assert.That(moved, Has.Count.EqualTo(1));
        Assert.That(await rabbit.QueueTypeAsync($"{worker.Queue}_error"), Is.EqualTo("quorum"));
    }

    [Test, Description("A send cannot declare a quorum queue: with no worker to have declared it, the send fails rather than vanish.")]
    public async Task A_send_fails_when_no_quorum_queue_takes_it()
    {
        var queue = TestWorker.UniqueQueue();
        await using var client = await TestClient.StartAsync(queue, Quorum);
        using var rabbit = new RabbitManagement();

        var send = client.SendAsync(queue, [TestJobs.Submit("delay", new { ms = 1 })]);

        Assert.That(async () => await send, Throws.InstanceOf<Exception>().With.Message.Contains("returned"));
        await rabbit.DeleteWorkerQueuesAsync(queue);
    }

    [TestCase("classic", "quorum")]
    [TestCase("quorum", "classic")]
    public async Task Worker_stops_at_start_naming_the_queue_when_it_exists_with_the_other_type(string existing, string wanted)
    {
        var queue = TestWorker.UniqueQueue();
        using var rabbit = new RabbitManagement();
        await rabbit.DeclareQueueAsync(queue, existing);
        try
        {
            var start = TestWorker.StartProcessAsync(queue, new() { ["RabbitMq:QueueType"] = wanted });

            var failure = Assert.ThrowsAsync<InvalidOperationException>(async () => await (await start).DisposeAsync());
            Assert.That(failure!.Message, Does.Contain("exited"));
            Assert.That(failure.Message, Does.Contain($"RabbitMq:QueueType is {wanted}, but queue(s) {queue} already exist as {existing} queues"));
            Assert.That(failure.Message, Does.Contain("Moving to quorum queues"));
        }
        finally
        {
            await rabbit.DeleteWorkerQueuesAsync(queue);
        }
    }

    [Test, Description("Host and Port are left at their defaults, where nothing listens: only Hosts can have connected the worker.")]
    public async Task Worker_connects_through_Hosts_with_one_node()
    {
        await using var worker = await TestWorker.StartAsync(new()
        {
            ["RabbitMq:Host"] = RabbitMqOptions.DefaultHost,
            ["RabbitMq:Port"] = RabbitMqOptions.DefaultPort.ToString(),
            ["RabbitMq:Hosts:0"] = $"{TestEnvironment.Host}:{TestEnvironment.RabbitPort}",
        });
        await using var client = await TestClient.StartAsync(worker.Queue);
        var jobs = TestJobs.Delays(20, 10);

        await client.SendAsync(worker.Queue, jobs);

        var counts = await TestJobs.WaitUntilFinishedAsync(jobs, TimeSpan.FromSeconds(60));
        Assert.That(counts.GetValueOrDefault(JobState.Succeeded), Is.EqualTo(jobs.Count), TestJobs.Describe(counts));
    }
}
