using JobWorker.Hosting;
using JobWorker.Jobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Hosting;

/// <summary>Liveness tells a wedged worker (work waiting, every slot taken, no progress) from a busy one.</summary>
public sealed class JobSlotsHealthCheckTests
{
    [Test]
    public async Task Liveness_fails_only_while_work_waits_every_slot_is_taken_and_nothing_progresses()
    {
        var slots = new JobSlots(Options.Create(new JobOptions { ConcurrentJobs = 1 }));
        var check = new JobSlotsHealthCheck(slots, Options.Create(new HealthOptions { WedgedAfter = TimeSpan.FromMilliseconds(100) }));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var idle = await CheckAsync(check);
        var held = await slots.TakeAsync(stop.Token);
        await Task.Delay(200);
        var busyButNothingWaits = await CheckAsync(check);
        var waiter = slots.TakeAsync(stop.Token);
        var wedged = await CheckAsync(check);
        slots.RecordProgress();
        var progressed = await CheckAsync(check);
        held.Dispose();
        using var next = await waiter;
        var freed = await CheckAsync(check);

        Assert.That(idle.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(busyButNothingWaits.Status, Is.EqualTo(HealthStatus.Healthy), "a full replica with nothing waiting is busy, not wedged");
        Assert.That(wedged.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(wedged.Description, Does.StartWith("Wedged: 1 deliveries wait, all 1 slots are taken"));
        Assert.That(wedged.Data["waiting"], Is.EqualTo(1));
        Assert.That(progressed.Status, Is.EqualTo(HealthStatus.Healthy), "a job claimed or finished just now is progress");
        Assert.That(freed.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(freed.Data["busy"], Is.EqualTo(1));
        Assert.That(freed.Data["waiting"], Is.EqualTo(0));
    }

    private static Task<HealthCheckResult> CheckAsync(JobSlotsHealthCheck check) => check.CheckHealthAsync(new HealthCheckContext());
}
