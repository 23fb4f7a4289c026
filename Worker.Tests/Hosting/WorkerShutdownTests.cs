using JobWorker.Hosting;

namespace JobWorker.Tests.Hosting;

/// <summary>The drain's steps: each bounded, and none able to skip the next.</summary>
public sealed class WorkerShutdownTests
{
    [Test, Description("Review finding: when stopping consumption threw, the rest of the drain was skipped.")]
    public async Task A_step_that_throws_or_hangs_is_logged_and_the_next_step_still_runs()
    {
        var logs = new LogCapture();
        var logger = logs.CreateLogger("drain");
        var ran = new List<string>();

        await WorkerShutdown.RunStepAsync("stop consuming", TimeSpan.FromSeconds(5), _ => throw new InvalidOperationException("endpoint gone"), logger, CancellationToken.None);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await WorkerShutdown.RunStepAsync("send the released jobs", TimeSpan.FromMilliseconds(300), ct => Task.Delay(Timeout.Infinite, CancellationToken.None), logger, CancellationToken.None);
        var hung = clock.Elapsed;
        await WorkerShutdown.RunStepAsync("publish the recorded events", TimeSpan.FromSeconds(5), _ => { ran.Add("publish"); return Task.CompletedTask; }, logger, CancellationToken.None);

        Assert.That(ran, Is.EqualTo(new[] { "publish" }));
        Assert.That(hung, Is.LessThan(TimeSpan.FromSeconds(5)), "a step that ignores its token is still left at its bound");
        Assert.That(logs.Entries.Select(e => e.Message), Has.Some.Contains("could not stop consuming").And.Some.Contains("endpoint gone"));
        Assert.That(logs.Entries.Select(e => e.Message), Has.Some.Contains("send the released jobs (not done within"));
    }
}
