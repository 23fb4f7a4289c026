using JobWorker.Messaging;

namespace JobWorker.Tests.Messaging;

/// <summary>How a send finds the jobs queue's address: its declare, with a fake in place of the broker, per queue of the test's own.</summary>
public sealed class DurableQueuesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static string UniqueQueue() => $"jobs-{Guid.NewGuid():N}";

    [Test, Description("Review finding: each of a dispatch band's concurrent first sends opened its own declare connection.")]
    public async Task Concurrent_first_sends_declare_the_jobs_queue_once()
    {
        var queue = UniqueQueue();
        var declares = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task Declare(string _, RabbitMqOptions __, CancellationToken ct)
        {
            Interlocked.Increment(ref declares);
            await release.Task.WaitAsync(ct);
        }

        using var bound = new CancellationTokenSource(Timeout);
        var sends = Enumerable.Range(0, 200)
            .Select(_ => Task.Run(() => DurableQueues.JobsSendAddressCoreAsync(queue, new RabbitMqOptions(), Declare, bound.Token)))
            .ToList();
        await Task.Delay(200);
        release.SetResult();
        var addresses = await Task.WhenAll(sends).WaitAsync(Timeout);

        Assert.That(declares, Is.EqualTo(1));
        Assert.That(addresses, Has.All.EqualTo(new Uri($"exchange:{queue}")));
        Assert.That(await DurableQueues.JobsSendAddressCoreAsync(queue, new RabbitMqOptions(), Declare, bound.Token), Is.EqualTo(new Uri($"exchange:{queue}")));
        Assert.That(declares, Is.EqualTo(1), "declared once per process");
    }

    [Test]
    public async Task A_failed_declare_is_tried_again_by_the_next_send()
    {
        var queue = UniqueQueue();
        var declares = 0;
        Task Declare(string _, RabbitMqOptions __, CancellationToken ___) =>
            Interlocked.Increment(ref declares) == 1 ? Task.FromException(new InvalidOperationException("broker unreachable")) : Task.CompletedTask;
        using var bound = new CancellationTokenSource(Timeout);

        Assert.That(async () => await DurableQueues.JobsSendAddressCoreAsync(queue, new RabbitMqOptions(), Declare, bound.Token),
            Throws.InvalidOperationException.With.Message.EqualTo("broker unreachable"));
        var address = await DurableQueues.JobsSendAddressCoreAsync(queue, new RabbitMqOptions(), Declare, bound.Token);

        Assert.That(address, Is.EqualTo(new Uri($"exchange:{queue}")));
        Assert.That(declares, Is.EqualTo(2));
    }

    [Test, Description("A caller waits no longer than its own token; the declare goes on for the others.")]
    public async Task A_send_waits_for_the_declare_no_longer_than_its_token()
    {
        var queue = UniqueQueue();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task Declare(string _, RabbitMqOptions __, CancellationToken ct) => release.Task.WaitAsync(ct);
        using var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        using var bound = new CancellationTokenSource(Timeout);

        Assert.That(async () => await DurableQueues.JobsSendAddressCoreAsync(queue, new RabbitMqOptions(), Declare, impatient.Token),
            Throws.InstanceOf<OperationCanceledException>());
        var patient = DurableQueues.JobsSendAddressCoreAsync(queue, new RabbitMqOptions(), Declare, bound.Token);
        release.SetResult();

        Assert.That(await patient, Is.EqualTo(new Uri($"exchange:{queue}")));
    }
}
