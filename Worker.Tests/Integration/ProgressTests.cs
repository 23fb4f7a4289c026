using System.Diagnostics;
using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>
/// Progress and checkpoints on a real worker: a running delay job's status shows how far it got, its progress is written
/// about once a second however often it reports, and a job that fails after saving a checkpoint resumes from it.
/// </summary>
public sealed class ProgressTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Test, Description("One scenario on a worker straight on PostgreSQL: an 8 s delay job's progress midway and its writes; a checkpoint resumed.")]
    public async Task Progress_is_shown_midway_and_a_checkpoint_is_resumed()
    {
        await RunScenarioAsync(new(), delayMs: 8_000);
    }

    [Test, Description("The same scenario through PgBouncer in transaction mode (shorter delay: it checks the statements, not the timing).")]
    [Category("Slow")]
    public async Task Progress_and_checkpoints_work_through_PgBouncer()
    {
        await LocalServices.StartAsync("pgbouncer");
        var throughPgBouncer = new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString(maxPoolSize: 10))
        {
            Port = TestEnvironment.PgBouncerPort,
            MaxAutoPrepare = 0,
            NoResetOnClose = true,
        }.ConnectionString;
        await RunScenarioAsync(new() { ["Database:ConnectionString"] = throughPgBouncer }, delayMs: 4_000);
    }

    [Test, Description("Review finding: the last progress write before an outcome waited up to a lease behind a progress tick stuck on a slow database, holding up the outcome.")]
    public async Task A_stuck_progress_write_holds_up_the_outcome_by_a_few_seconds_at_most()
    {
        var faults = new StatementFaults();
        await using var worker = await TestWorker.StartAsync(new(), w => w.Services.AddSingleton<IInterceptor>(faults));
        await using var client = await TestClient.StartAsync(worker.Queue);
        var delay = TestJobs.Submit("delay", new { ms = 2_000 });
        await client.SendAsync(worker.Queue, [delay]);
        await TestJobs.WaitForStateAsync(delay.JobId, JobState.Running, Timeout);

        // Progress writes stop answering (a progress tick then holds the writer for its whole bound); the rest does not.
        faults.Stall("write-progress");
        var clock = Stopwatch.StartNew();
        var finished = await TestJobs.WaitForStateAsync(delay.JobId, JobState.Succeeded, TimeSpan.FromSeconds(20));

        Assert.That(finished.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2) + JobWorker.Jobs.JobProcessor.ProgressFlushBound + TimeSpan.FromSeconds(4)),
            "the handler's 2 s, the flush's bound, and some slack; not the 30 s lease");
    }

    private static async Task RunScenarioAsync(Dictionary<string, string?> settings, int delayMs)
    {
        var statements = new StatementCounter();
        await using var worker = await TestWorker.StartAsync(settings, w => w
            .AddJobHandler<CheckpointJobHandler>(CheckpointJobHandler.JobType)
            .Services.AddSingleton<IInterceptor>(statements));
        await using var client = await TestClient.StartAsync(worker.Queue);
        var delay = TestJobs.Submit("delay", new { ms = delayMs });
        var resumable = TestJobs.Submit(CheckpointJobHandler.JobType, new { items = 5, failAfter = 3 }, maxAttempts: 2);

        await client.SendAsync(worker.Queue, [delay, resumable]);
        await TestJobs.WaitForStateAsync(delay.JobId, JobState.Running, Timeout);
        var clock = Stopwatch.StartNew();
        var writesSeen = new HashSet<DateTime>();
        JobStatus? midway = null;
        Job? row;
        do
        {
            row = await TestJobs.FindAsync(delay.JobId);
            if (row is { State: JobState.Running, ProgressUpdatedAt: { } written })
            {
                writesSeen.Add(written);
            }

            if (midway is null && clock.ElapsedMilliseconds >= delayMs / 2)
            {
                midway = await client.RequestStatusAsync(delay.JobId);
            }

            await Task.Delay(100);
        }
        while (row?.State is JobState.Running or JobState.Pending && clock.Elapsed < Timeout);

        var finished = await TestJobs.WaitForStateAsync(delay.JobId, JobState.Succeeded, Timeout);
        var resumed = await TestJobs.WaitForStateAsync(resumable.JobId, JobState.Succeeded, Timeout);
        var seconds = delayMs / 1000;

        Assert.That(midway, Is.Not.Null, "the status was asked for midway");
        Assert.That(midway!.State, Is.EqualTo("Running"));
        Assert.That(midway.ProgressPercent, Is.InRange(20.0, 80.0), "midway, the delay job is between 20% and 80% done");
        Assert.That(midway.ProgressTotal, Is.EqualTo(delayMs));
        Assert.That(midway.ProgressMessage, Does.Match($@"^slept \d+ of {seconds} s$"));
        Assert.That(writesSeen, Has.Count.GreaterThanOrEqualTo(seconds / 2), "progress was written while the job ran, not only at its end");
        Assert.That(statements.Count("write-progress"), Is.InRange(seconds / 2, seconds + 2), "about one progress write a second, reports coalesced");
        Assert.That((finished.ProgressCompleted, finished.ProgressTotal), Is.EqualTo(((long?)delayMs, (long?)delayMs)), "the last report, written before the outcome, stays");
        Assert.That(JsonSerializer.Deserialize<JsonElement>(finished.Result!).GetProperty("sleptMs").GetInt32(), Is.EqualTo(delayMs), "the delay's result is unchanged");

        Assert.That(resumed.Attempt, Is.EqualTo(2), "the first attempt failed once");
        Assert.That(JsonSerializer.Deserialize<JsonElement>(resumed.Result!).GetProperty("resumedFrom").GetInt32(), Is.EqualTo(3), "the second attempt resumed from the checkpoint the first saved");
        Assert.That(JsonSerializer.Deserialize<JsonElement>(resumed.Checkpoint!).GetProperty("Next").GetInt32(), Is.EqualTo(5));
    }
}
