using JobWorker.Jobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobWorker.Tests.Jobs;

/// <summary>The maintenance duties' loop: a tick per interval, and one more at once when a duty is woken.</summary>
public sealed class MaintenanceServiceTests
{
    [Test]
    public async Task A_duty_ticks_once_per_interval_and_at_once_when_woken()
    {
        var wake = new DutyWake();
        var timed = new CountingDuty(null);
        var woken = new CountingDuty(wake);
        await timed.StartAsync(CancellationToken.None);
        await woken.StartAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var timedTicks = timed.Ticks;
        var beforeWake = woken.Ticks;

        wake.Wake();
        wake.Wake();
        await Eventually.WaitForAsync(() => Task.FromResult(woken.Ticks), t => t > beforeWake, TimeSpan.FromSeconds(5), "the woken duty to tick");
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await timed.StopAsync(CancellationToken.None);
        await woken.StopAsync(CancellationToken.None);

        Assert.That(timedTicks, Is.EqualTo(1), "one tick at start, the next after the interval (1 min)");
        Assert.That(beforeWake, Is.EqualTo(1));
        Assert.That(woken.Ticks, Is.EqualTo(2), "two wakes before the tick make one tick");
    }

    private sealed class CountingDuty(DutyWake? wake) : MaintenanceService(NullLogger.Instance)
    {
        private int _ticks;

        public int Ticks => Volatile.Read(ref _ticks);

        public override string Name => "counting";

        public override TimeSpan Interval => TimeSpan.FromMinutes(1);

        protected override DutyWake? Wakes => wake;

        protected override Task RunOnceAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _ticks);
            return Task.CompletedTask;
        }
    }
}
