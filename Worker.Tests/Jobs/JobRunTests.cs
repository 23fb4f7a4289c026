using System.Text.Json;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>A handler's progress and checkpoints: kept in memory for a run built by hand, fenced by the attempt in the ledger.</summary>
public sealed class JobRunTests
{
    private static JobRun Run(int attempt = 1) =>
        new(Guid.NewGuid(), "test", JsonSerializer.SerializeToElement(new { }), attempt, 3, null);

    [Test]
    public async Task Progress_of_a_run_built_by_hand_is_kept_in_memory()
    {
        var run = Run();

        await run.ReportProgressAsync(3, 12, "three of twelve");
        await run.SaveCheckpointAsync(new { next = 3 });

        Assert.That(run.Progress, Is.EqualTo(new JobProgress(3, 12, "three of twelve")));
        Assert.That(run.Progress!.Percent, Is.EqualTo(25.0));
        Assert.That(run.SavedCheckpoint?.GetProperty("next").GetInt32(), Is.EqualTo(3));
    }

    [TestCase(5, null, null)]
    [TestCase(5, 0L, null)]
    [TestCase(15, 10L, 100.0)]
    [TestCase(0, 10L, 0.0)]
    public void Percent_is_held_to_0_to_100_and_absent_without_a_total(long completed, long? total, double? percent)
    {
        Assert.That(new JobProgress(completed, total, null).Percent, Is.EqualTo(percent));
    }

    [Test]
    public void A_checkpoint_over_64_KB_is_refused_naming_the_limit()
    {
        var error = Assert.ThrowsAsync<ArgumentException>(() => Run().SaveCheckpointAsync(new { data = new string('x', 70_000) }));

        Assert.That(error!.Message, Does.Contain("at most 65536 bytes"));
    }

    [Test, Description("A checkpoint saved after the attempt lost the row (its lease lapsed and another attempt claimed it) throws, and the row keeps the other attempt's.")]
    public async Task A_checkpoint_save_of_an_attempt_that_lost_its_row_throws()
    {
        var job = await JobFactory.InsertAsync(JobState.Running, attempt: 1, owner: "worker-a");
        var running = new RunningJob(job);
        var run = Run() with { Sink = new JobRunSink(running, TestJobs.Store, TimeSpan.FromSeconds(10)) };
        await run.SaveCheckpointAsync(new { next = 1 });

        await TestJobs.ExecuteAsync("UPDATE jobs SET attempt = 2, owner = 'worker-b' WHERE id = $1", job.Id);
        var error = Assert.ThrowsAsync<JobAttemptLostException>(() => run.SaveCheckpointAsync(new { next = 2 }));
        var row = await TestJobs.FindAsync(job.Id);

        Assert.That(error!.Attempt, Is.EqualTo(1));
        Assert.That(row!.Checkpoint, Is.EqualTo("""{"next": 1}"""), "the lost attempt's save was not written");
    }

    [Test, Description("A thousand reports between two ticks are one write of the last; a tick with nothing new writes nothing.")]
    public async Task Reports_between_ticks_are_coalesced_into_one_write_of_the_last()
    {
        var job = await JobFactory.InsertAsync(JobState.Running, attempt: 1, owner: "worker-a");
        var options = Options.Create(new JobOptions());
        var slots = new JobSlots(options);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var slot = await slots.TakeAsync(bound.Token);
        var running = slot.Run(job);
        var run = Run() with { Sink = new JobRunSink(running, TestJobs.Store, TimeSpan.FromSeconds(10)) };
        var writer = new ProgressWriter(TestJobs.Store, slots, options, Microsoft.Extensions.Logging.Abstractions.NullLogger<ProgressWriter>.Instance);

        for (var i = 1; i <= 1000; i++)
        {
            await run.ReportProgressAsync(i, 1000, $"item {i}");
        }

        await writer.TickAsync(bound.Token);
        var first = await TestJobs.FindAsync(job.Id);
        await writer.TickAsync(bound.Token);
        var second = await TestJobs.FindAsync(job.Id);

        Assert.That((first!.ProgressCompleted, first.ProgressMessage), Is.EqualTo(((long?)1000, "item 1000")));
        Assert.That(second!.ProgressUpdatedAt, Is.EqualTo(first.ProgressUpdatedAt), "nothing new, nothing written");
        Assert.That(writer.Failures, Is.Zero);
    }

    [Test, Description("A progress report of an attempt that lost its row is not written; another attempt's progress stays.")]
    public async Task Progress_of_an_attempt_that_lost_its_row_is_not_written()
    {
        var mine = await JobFactory.InsertAsync(JobState.Running, attempt: 1, owner: "worker-a");
        var lost = await JobFactory.InsertAsync(JobState.Running, attempt: 1, owner: "worker-a");
        var slots = new JobSlots(Options.Create(new JobOptions()));
        var writer = new ProgressWriter(TestJobs.Store, slots, Options.Create(new JobOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<ProgressWriter>.Instance);
        var (a, b) = (new RunningJob(mine), new RunningJob(lost));
        a.ReportProgress(new JobProgress(1, 4, "one"));
        b.ReportProgress(new JobProgress(2, 4, "two"));

        await TestJobs.ExecuteAsync("UPDATE jobs SET attempt = 2 WHERE id = $1", lost.Id);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await writer.FlushAsync(a, bound.Token);
        await writer.FlushAsync(b, bound.Token);
        var rows = await TestJobs.LoadAsync([mine.Id, lost.Id]);

        Assert.That(rows.Single(r => r.Id == mine.Id).ProgressMessage, Is.EqualTo("one"));
        Assert.That(rows.Single(r => r.Id == lost.Id).ProgressUpdatedAt, Is.Null);
        Assert.That(a.UnwrittenProgress(), Is.Null, "written once, not again");
    }
}
