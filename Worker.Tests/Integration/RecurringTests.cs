using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Integration;

/// <summary>Recurring schedules fired by real workers on the real ledger: definitions, catch-up, overlap and operators' actions.</summary>
public sealed class RecurringTests
{
    private const string EverySecond = "* * * * * *";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Ticks often, so an on-time occurrence is never near the short misfire threshold the tests use.</summary>
    private static Dictionary<string, string?> Fast(Dictionary<string, string?>? more = null) => TestWorker.Overlay(new()
    {
        ["Recurring:PollInterval"] = "00:00:00.200",
        ["Recurring:MisfireThreshold"] = "00:00:02",
    }, more);

    [Test]
    public async Task Schedules_from_configuration_and_code_both_fire()
    {
        var queue = TestWorker.UniqueQueue();
        string fromConfig = $"{queue}-config", fromCode = $"{queue}-code";
        await using var worker = await TestWorker.StartAsync(
            Fast(new() { ["Jobs:QueueName"] = queue, [$"Recurring:{fromConfig}:Cron"] = EverySecond, [$"Recurring:{fromConfig}:Type"] = "noop" }),
            w => w.AddRecurringJob(fromCode, EverySecond, "delay", new { Ms = 10 }));

        var runs = await Eventually.WaitForAsync(() => RecurringLedger.RunsAsync(queue),
            r => Succeeded(fromConfig, r) >= 2 && Succeeded(fromCode, r) >= 2, Timeout, "both schedules to run twice");
        var code = await RecurringLedger.Control.FindAsync(fromCode, CancellationToken.None);
        var config = await RecurringLedger.Control.FindAsync(fromConfig, CancellationToken.None);

        Assert.That(Succeeded(fromConfig, runs), Is.GreaterThanOrEqualTo(2));
        Assert.That(Succeeded(fromCode, runs), Is.GreaterThanOrEqualTo(2), "the code's payload {\"ms\":10} is one the delay handler reads");
        Assert.That(code?.Source, Is.EqualTo(RecurringSource.Code));
        Assert.That(config?.Source, Is.EqualTo(RecurringSource.Configuration));
    }

    [Test, Description("A restart without the code's schedule disables it: no job of it is created afterwards, while the configuration's goes on.")]
    public async Task Schedule_removed_from_code_is_disabled_at_the_next_start()
    {
        var queue = TestWorker.UniqueQueue();
        string kept = $"{queue}-kept", removed = $"{queue}-removed";
        var settings = Fast(new() { ["Jobs:QueueName"] = queue, [$"Recurring:{kept}:Cron"] = EverySecond, [$"Recurring:{kept}:Type"] = "noop" });
        await using (var before = await TestWorker.StartAsync(settings, w => w.AddRecurringJob(removed, EverySecond, "noop")))
        {
            await Eventually.WaitForAsync(() => RecurringLedger.RunsAsync(queue), r => Succeeded(removed, r) >= 1, Timeout, "the code's schedule to run");
        }

        await using var after = await TestWorker.StartAsync(settings);
        var restarted = DateTime.UtcNow;
        var keptRunsBefore = Fired(kept, await RecurringLedger.RunsAsync(queue)).Count;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var runs = await RecurringLedger.RunsAsync(queue);
        var schedule = await RecurringLedger.Control.FindAsync(removed, CancellationToken.None);

        Assert.That(schedule?.Enabled, Is.False);
        Assert.That(schedule?.Status, Is.EqualTo("disabled"));
        Assert.That(Fired(removed, runs).Where(f => f.Run.CreatedAt > restarted.AddSeconds(1)), Is.Empty, "no occurrence of the removed schedule fires after the restart");
        Assert.That(Fired(kept, runs), Has.Count.GreaterThan(keptRunsBefore), "the configuration's schedule goes on");
    }

    [Test]
    public async Task Worker_refuses_to_start_with_an_invalid_schedule_and_names_each_setting()
    {
        var error = Assert.CatchAsync(() => TestWorker.StartAsync(new()
        {
            ["Recurring:badcron:Cron"] = "61 * * * *", ["Recurring:badcron:Type"] = "noop",
            ["Recurring:badzone:Cron"] = EverySecond, ["Recurring:badzone:Type"] = "noop", ["Recurring:badzone:TimeZone"] = "Mars/Olympus_Mons",
            ["Recurring:badtype:Cron"] = EverySecond, ["Recurring:badtype:Type"] = "no-such-type",
            ["Recurring:badjson:Cron"] = EverySecond, ["Recurring:badjson:Type"] = "noop", ["Recurring:badjson:Payload"] = "{not json",
        }));

        Assert.That(error, Is.InstanceOf<OptionsValidationException>());
        Assert.That(error!.Message, Does.Contain("Recurring:badcron:Cron '61 * * * *' is not a valid cron expression"));
        Assert.That(error.Message, Does.Contain("Recurring:badzone:TimeZone 'Mars/Olympus_Mons' is not a known time zone"));
        Assert.That(error.Message, Does.Contain("Recurring:badtype:Type 'no-such-type' is not a job type this worker handles"));
        Assert.That(error.Message, Does.Contain("Recurring:badjson:Payload is not valid JSON text"));
    }

    [Test, Description("Two replicas of one queue fire an every-second schedule for 6 s: each occurrence has one job, run once, and none is missing.")]
    public async Task Every_occurrence_fires_once_across_two_replicas()
    {
        var queue = TestWorker.UniqueQueue();
        var key = $"{queue}-each";
        var settings = Fast(new() { ["Jobs:QueueName"] = queue, [$"Recurring:{key}:Cron"] = EverySecond, [$"Recurring:{key}:Type"] = "noop" });
        var counted = new ConcurrentDictionary<(string? Key, string? Outcome), long>();
        using var metrics = CountOccurrences(counted);
        var first = await TestWorker.StartAsync(settings);
        var second = await TestWorker.StartAsync(settings);
        try
        {
            await Eventually.WaitForAsync(() => RecurringLedger.RunsAsync(queue), r => r.Count(j => j.State == JobState.Succeeded) >= 6, Timeout, "six jobs to run");
        }
        finally
        {
            // Stopped before reading, so the ledger and the counters are final.
            await first.DisposeAsync();
            await second.DisposeAsync();
        }

        var runs = await RecurringLedger.RunsAsync(queue);
        var (fired, missing) = RecurringLedger.Match(key, EverySecond, runs);

        Assert.That(fired, Has.Count.GreaterThanOrEqualTo(6));
        Assert.That(fired, Has.Count.EqualTo(runs.Count), "every job is an occurrence's");
        Assert.That(missing, Is.Empty);
        Assert.That(fired.Where(f => f.Run.StartedAt is not null).Select(f => f.Run.Attempt), Has.All.EqualTo(1));
        // A job's id is derived from its occurrence, so a second claim of one would not show in the ledger; the counter
        // of the replicas' claims would: each occurrence counted by exactly one replica.
        Assert.That(counted.GetValueOrDefault((key, "fired")), Is.EqualTo(fired.Count), "each occurrence claimed once across the replicas");
    }

    [Test, Description("Twenty claims of one due row at once, as replicas racing: exactly one moves it and inserts the job.")]
    public async Task One_of_many_concurrent_claims_of_a_due_schedule_wins()
    {
        var queue = TestWorker.UniqueQueue();
        var key = $"{queue}-race";
        var added = await RecurringLedger.Control.AddAsync(queue, key, EverySecond, "noop", null, "UTC", CancellationToken.None);
        var store = new RecurringStore(TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()), TransitionResilience.None);
        var due = await Eventually.WaitForAsync(() => store.DueAsync(queue, 10, [], CancellationToken.None), d => d.Count == 1, Timeout, "the schedule to be due");
        var plan = RecurringPlanner.Decide(due[0].Schedule!, TimeSpan.FromMinutes(1), 100);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var racing = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await store.FireAsync(plan, 3, TimeSpan.FromMinutes(1), CancellationToken.None);
        })).ToList();
        start.SetResult();
        var claims = await Task.WhenAll(racing).WaitAsync(Timeout);

        Assert.That(added.Applied, Is.True, added.Message);
        Assert.That(claims.Count(c => c is not null), Is.EqualTo(1), "one claim wins, the others find the row moved");
        Assert.That(claims.Sum(c => c?.Item2 ?? 0), Is.EqualTo(plan.Fire.Count));
        Assert.That(await RecurringLedger.RunsAsync(queue), Has.Count.EqualTo(plan.Fire.Count));
    }

    [Test, Description("Every replica stopped for 6 s, then started: None drops the missed occurrences, Latest fires one of them, All fires all of them.")]
    public async Task Catch_up_policies_do_what_they_say_after_every_replica_was_stopped()
    {
        var queue = TestWorker.UniqueQueue();
        string none = $"{queue}-none", latest = $"{queue}-latest", all = $"{queue}-all";
        var settings = Fast(new() { ["Jobs:QueueName"] = queue });
        foreach (var (key, policy) in new[] { (none, "None"), (latest, "Latest"), (all, "All") })
        {
            settings[$"Recurring:{key}:Cron"] = EverySecond;
            settings[$"Recurring:{key}:Type"] = "noop";
            settings[$"Recurring:{key}:Overlap"] = "Allow";
            settings[$"Recurring:{key}:CatchUp"] = policy;
        }

        var counted = new ConcurrentDictionary<(string? Key, string? Outcome), long>();
        using var metrics = CountOccurrences(counted);
        await using (var before = await TestWorker.StartAsync(settings))
        {
            await Eventually.WaitForAsync(() => RecurringLedger.RunsAsync(queue), r => Fired(none, r).Count >= 2 && Fired(latest, r).Count >= 2 && Fired(all, r).Count >= 2, Timeout, "each schedule to fire");
        }

        var missedBefore = new[] { none, latest, all }.ToDictionary(k => k, k => counted.GetValueOrDefault((k, "missed")));
        await Task.Delay(TimeSpan.FromSeconds(6));
        await using (var after = await TestWorker.StartAsync(settings))
        {
            // The first claim after the restart decides each schedule's missed occurrences (None and Latest count them as
            // missed); the planner's counters say what it decided, however late a loaded machine read the rows.
            await Eventually.WaitForAsync(() => RecurringLedger.RunsAsync(queue),
                r => counted.GetValueOrDefault((none, "missed")) > missedBefore[none] && counted.GetValueOrDefault((latest, "missed")) > missedBefore[latest]
                    && RecurringLedger.Match(all, EverySecond, r).Missing.Count == 0 && Fired(all, r).Count >= Fired(none, r).Count + 3,
                Timeout, "the first claims after the restart");
        }

        // Read once stopped, so the ledger and the counters are final.
        var runs = await RecurringLedger.RunsAsync(queue);

        var (_, noneMissing) = RecurringLedger.Match(none, EverySecond, runs);
        var (_, latestMissing) = RecurringLedger.Match(latest, EverySecond, runs);
        var (_, allMissing) = RecurringLedger.Match(all, EverySecond, runs);

        Assert.That(noneMissing, Has.Count.GreaterThanOrEqualTo(3), "None drops what was missed");
        Assert.That(counted.GetValueOrDefault((none, "missed")), Is.EqualTo(noneMissing.Count), "and counts each dropped one as missed");
        Assert.That(latestMissing, Has.Count.GreaterThanOrEqualTo(2), "Latest drops the older missed occurrences");
        Assert.That(counted.GetValueOrDefault((latest, "missed")), Is.EqualTo(latestMissing.Count), "and fires only the latest: it alone is not missing");
        Assert.That(allMissing, Is.Empty, "All fires every missed occurrence (within its one-hour window)");
        Assert.That(counted.GetValueOrDefault((all, "missed")), Is.Zero);
    }

    [Test, Description("A 2.5 s job every second: with Skip no two runs overlap and skips are recorded; with Allow runs overlap.")]
    public async Task Overlap_skip_never_runs_two_occurrences_at_once_and_allow_does()
    {
        var queue = TestWorker.UniqueQueue();
        string skip = $"{queue}-skip", allow = $"{queue}-allow";
        var settings = Fast(new()
        {
            ["Jobs:QueueName"] = queue,
            [$"Recurring:{skip}:Cron"] = EverySecond, [$"Recurring:{skip}:Type"] = "delay", [$"Recurring:{skip}:Payload"] = """{"ms": 2500}""",
            [$"Recurring:{allow}:Cron"] = EverySecond, [$"Recurring:{allow}:Type"] = "delay", [$"Recurring:{allow}:Payload"] = """{"ms": 2500}""",
            [$"Recurring:{allow}:Overlap"] = "Allow",
        });
        var counted = new ConcurrentDictionary<(string? Key, string? Outcome), long>();
        using var metrics = CountOccurrences(counted);
        var first = await TestWorker.StartAsync(settings);
        var second = await TestWorker.StartAsync(settings);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(8));
        }
        finally
        {
            // Stopped (running jobs drain) before reading, so the ledger and the counters are final.
            await first.DisposeAsync();
            await second.DisposeAsync();
        }

        var runs = await RecurringLedger.RunsAsync(queue);
        var skipSchedule = await RecurringLedger.Control.FindAsync(skip, CancellationToken.None);

        var skipRuns = Fired(skip, runs).Select(f => f.Run).ToList();
        Assert.That(skipRuns, Has.Count.GreaterThanOrEqualTo(2));
        Assert.That(Overlapping(skipRuns), Is.Zero, "Skip: no run starts before the previous one finished");
        Assert.That(skipSchedule?.LastSkippedAt, Is.Not.Null, "Skip records the occurrences it skipped");
        Assert.That(Overlapping(Fired(allow, runs).Select(f => f.Run).ToList()), Is.GreaterThan(0), "Allow lets runs overlap");
        Assert.That(counted.GetValueOrDefault((skip, "skipped")), Is.GreaterThan(0), "skips are counted");
        Assert.That(counted.GetValueOrDefault((skip, "fired")), Is.EqualTo(skipRuns.Count), "each fired occurrence is counted once");
        Assert.That(counted.GetValueOrDefault((allow, "skipped")), Is.Zero);
    }

    [Test]
    public async Task Operator_pauses_triggers_and_resumes_a_runtime_schedule()
    {
        var queue = TestWorker.UniqueQueue();
        var key = $"{queue}-ops";
        var control = RecurringLedger.Control;
        await using var worker = await TestWorker.StartAsync(Fast(new() { ["Jobs:QueueName"] = queue }));

        var added = await control.AddAsync(queue, key, "0 0 0 1 1 *", "noop", null, "Europe/Berlin", CancellationToken.None);
        var before = await control.FindAsync(key, CancellationToken.None);
        var paused = await control.PauseAsync(key, "test", CancellationToken.None);
        var triggered = await control.TriggerAsync(key, CancellationToken.None);
        var afterTrigger = await control.FindAsync(key, CancellationToken.None);
        var job = await TestJobs.WaitForStateAsync(afterTrigger!.LastJobId!.Value, JobState.Succeeded, Timeout);
        var listed = await control.FindAsync(key, CancellationToken.None);
        var resumed = await control.ResumeAsync(key, CancellationToken.None);
        var removed = await control.RemoveAsync(key, CancellationToken.None);

        Assert.That(added.Applied, Is.True, added.Message);
        Assert.That(paused.Applied, Is.True, paused.Message);
        Assert.That(triggered.Message, Does.Contain("runs now"));
        Assert.That(job.State, Is.EqualTo(JobState.Succeeded), "a paused schedule can still be triggered by hand");
        Assert.That(listed?.Status, Is.EqualTo("paused"));
        Assert.That(listed?.LastState, Is.EqualTo(JobState.Succeeded));
        Assert.That(before?.NextRunAt?.Month, Is.EqualTo(12).Or.EqualTo(1), "midnight on 1 January in Berlin is 23:00 UTC on 31 December");
        Assert.That(before?.NextRunAt?.Hour, Is.EqualTo(23));
        Assert.That(listed?.NextRunAt, Is.EqualTo(before?.NextRunAt), "the trigger does not move the next run");
        Assert.That(resumed.Applied, Is.True, resumed.Message);
        Assert.That(removed.Applied, Is.True, removed.Message);
        Assert.That(await control.FindAsync(key, CancellationToken.None), Is.Null);
    }

    /// <summary>Adds up <c>jobworker.recurring.occurrences</c> by schedule key and outcome, from every worker of this process.</summary>
    private static MeterListener CountOccurrences(ConcurrentDictionary<(string? Key, string? Outcome), long> counted)
    {
        var metrics = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == JobWorkerTelemetry.Name && instrument.Name == "jobworker.recurring.occurrences")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        metrics.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? key = null, outcome = null;
            foreach (var tag in tags)
            {
                key = tag.Key == "jobworker.recurring.key" ? tag.Value as string : key;
                outcome = tag.Key == "jobworker.recurring.outcome" ? tag.Value as string : outcome;
            }

            counted.AddOrUpdate((key, outcome), value, (_, n) => n + value);
        });
        metrics.Start();
        return metrics;
    }

    private static List<(DateTime Occurrence, RecurringRun Run)> Fired(string key, List<RecurringRun> runs) =>
        RecurringLedger.Match(key, EverySecond, runs).Fired;

    private static int Succeeded(string key, List<RecurringRun> runs) => Fired(key, runs).Count(f => f.Run.State == JobState.Succeeded);

    /// <summary>Runs that start before the one started just before them finished (an unfinished run never finishes).</summary>
    private static int Overlapping(List<RecurringRun> runs)
    {
        var started = runs.Where(r => r.StartedAt is not null).OrderBy(r => r.StartedAt).ToList();
        return started.Zip(started.Skip(1)).Count(p => p.Second.StartedAt < (p.First.FinishedAt ?? DateTime.MaxValue));
    }
}
