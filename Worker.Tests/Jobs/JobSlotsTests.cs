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
}
