using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>The replica's slots and the jobs running in them.</summary>
public sealed class JobSlotsTests
{
    private static Job Claimed(Guid id, int attempt) => new() { Id = id, Type = "noop", State = JobState.Running, Attempt = attempt, Owner = "worker-a" };

    [Test, Description("Review finding: slots keyed by job id alone let a re-claim on the same replica overwrite the old attempt's entry.")]
    public async Task Two_attempts_of_one_job_in_this_replica_each_keep_their_own_entry()
    {
        var slots = new JobSlots(Options.Create(new JobOptions { ConcurrentJobs = 4 }));
        var id = Guid.NewGuid();
        using var oldSlot = await slots.TakeAsync(CancellationToken.None);
        var old = oldSlot.Run(Claimed(id, 1));
        using var newSlot = await slots.TakeAsync(CancellationToken.None);
        var current = newSlot.Run(Claimed(id, 2));

        Assert.That(slots.Running, Is.EquivalentTo(new[] { old, current }), "the old attempt is still there for renewal, cancel and drain");
        Assert.That(slots.TryGet(id, 1, out var first) && ReferenceEquals(first, old), Is.True);

        newSlot.Dispose();

        Assert.That(slots.Running, Is.EqualTo(new[] { old }), "freeing one attempt's slot leaves the other's entry");
        Assert.That(slots.TryCancel(id, "stop"), Is.True);
        Assert.That(old.Stopping.IsCancellationRequested, Is.True);
        Assert.That(slots.Busy, Is.EqualTo(1));
    }

    [Test, Description("Prefetched deliveries wait here: a freed slot goes to the highest priority, then to the earliest of that priority.")]
    public async Task Freed_slot_goes_to_highest_priority_then_earliest_waiter()
    {
        var slots = new JobSlots(Options.Create(new JobOptions { ConcurrentJobs = 1 }));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var held = await slots.TakeAsync(timeout.Token);
        var order = new List<string>();
        async Task WaitAsync(string name, int priority)
        {
            using var slot = await slots.TakeAsync(priority, timeout.Token);
            lock (order)
            {
                order.Add(name);
            }
        }

        var waiters = new[] { WaitAsync("low", 0), WaitAsync("high-first", 9), WaitAsync("middle", 5), WaitAsync("high-second", 9) };
        Assert.That(slots.Waiting, Is.EqualTo(4));

        held.Dispose();
        await Task.WhenAll(waiters).WaitAsync(timeout.Token);

        Assert.That(order, Is.EqualTo(new[] { "high-first", "high-second", "middle", "low" }));
        Assert.That((slots.Busy, slots.Waiting), Is.EqualTo((0, 0)));
    }

    [Test, Description("A waiter whose delivery is cancelled leaves the queue: the slot goes to the next one, and none is lost or counted twice.")]
    public async Task Cancelled_waiter_gives_way_and_keeps_counts_when_slot_frees()
    {
        var slots = new JobSlots(Options.Create(new JobOptions { ConcurrentJobs = 1 }));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var held = await slots.TakeAsync(timeout.Token);
        using var delivery = new CancellationTokenSource();
        var cancelled = slots.TakeAsync(9, delivery.Token);
        var next = slots.TakeAsync(0, timeout.Token);
        Assert.That(slots.Waiting, Is.EqualTo(2));

        await delivery.CancelAsync();

        Assert.That(async () => await cancelled.WaitAsync(timeout.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That((slots.Busy, slots.Waiting), Is.EqualTo((1, 1)));
        held.Dispose();
        using (await next.WaitAsync(timeout.Token))
        {
            Assert.That((slots.Busy, slots.Waiting), Is.EqualTo((1, 0)));
        }

        Assert.That(slots.Busy, Is.Zero);
        using var again = await slots.TakeAsync(timeout.Token);
        Assert.That(slots.Busy, Is.EqualTo(1), "the slot the cancelled waiter passed over is free again, once");
    }
}
