using JobWorker.Jobs;

namespace JobWorker.Tests.Jobs;

/// <summary>The occurrences a schedule fires, as the scheduler computes them (Cronos through RecurringCron and RecurringPlanner): time zones, catch-up and overlap.</summary>
public sealed class RecurringPlannerTests
{
    private static readonly TimeSpan Threshold = TimeSpan.FromMinutes(1);

    private static DateTime Utc(string text) => DateTime.SpecifyKind(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);

    private static List<DateTime> Occurrences(string cron, string zone, string fromUtc, string toUtc) =>
        RecurringCron.Between(RecurringCron.Parse(cron), RecurringCron.Zone(zone), Utc(fromUtc), Utc(toUtc), 100);

    [Test, Description("Berlin springs forward on 2026-03-29 at 02:00 CET to 03:00 CEST: 02:30 does not exist that day, and Cronos fires it at the transition, 01:00 UTC.")]
    public void Occurrences_fire_once_at_the_transition_when_spring_forward_skips_the_time()
    {
        var fired = Occurrences("0 30 2 * * *", "Europe/Berlin", "2026-03-28 00:00:00", "2026-03-31 00:00:00");

        Assert.That(fired, Is.EqualTo(new[] { Utc("2026-03-28 01:30:00"), Utc("2026-03-29 01:00:00"), Utc("2026-03-30 00:30:00") }));
    }

    [Test, Description("Berlin falls back on 2026-10-25 at 03:00 CEST to 02:00 CET: 02:30 happens twice, and a daily expression fires once, at the first (CEST).")]
    public void Occurrences_fire_once_when_fall_back_repeats_the_time()
    {
        var fired = Occurrences("0 30 2 * * *", "Europe/Berlin", "2026-10-24 00:00:00", "2026-10-27 00:00:00");

        Assert.That(fired, Is.EqualTo(new[] { Utc("2026-10-24 00:30:00"), Utc("2026-10-25 00:30:00"), Utc("2026-10-26 01:30:00") }));
    }

    [Test]
    public void Occurrences_follow_the_zone_when_five_fields_are_given()
    {
        var fired = Occurrences("0 9 * * *", "America/New_York", "2026-03-07 00:00:00", "2026-03-10 00:00:00");

        Assert.That(fired, Is.EqualTo(new[] { Utc("2026-03-07 14:00:00"), Utc("2026-03-08 13:00:00"), Utc("2026-03-09 13:00:00") }));
    }

    [Test]
    public void Job_id_is_the_same_for_the_same_occurrence_and_differs_otherwise()
    {
        var at = Utc("2026-12-03 12:00:00");

        Assert.That(RecurringJobId.For("nightly", at), Is.EqualTo(RecurringJobId.For("nightly", at.ToLocalTime())));
        Assert.That(RecurringJobId.For("nightly", at), Is.Not.EqualTo(RecurringJobId.For("nightly", at.AddSeconds(1))));
        Assert.That(RecurringJobId.For("nightly", at), Is.Not.EqualTo(RecurringJobId.For("hourly", at)));
        Assert.That(RecurringJobId.For("nightly", at).Version, Is.EqualTo(5));
    }

    [Test]
    public void Planner_fires_each_occurrence_on_time_and_moves_to_the_next()
    {
        var plan = RecurringPlanner.Decide(Due("*/2 * * * * *", "12:00:00", now: "12:00:00.400", RecurringCatchUp.None, RecurringOverlap.Allow), Threshold, 100);

        Assert.That(plan.Fire, Is.EqualTo(new[] { Utc("2026-12-03 12:00:00") }));
        Assert.That(plan.NextIfFired, Is.EqualTo(Utc("2026-12-03 12:00:02")));
        Assert.That(plan.Expected, Is.EqualTo(Utc("2026-12-03 12:00:00")));
    }

    [Test]
    public void Planner_drops_missed_occurrences_when_catch_up_is_none()
    {
        var plan = RecurringPlanner.Decide(Due("0 * * * * *", "11:00:00", now: "12:00:30", RecurringCatchUp.None, RecurringOverlap.Allow), Threshold, 100);

        Assert.That(plan.Fire, Is.EqualTo(new[] { Utc("2026-12-03 12:00:00") }), "only the occurrence less than the threshold late");
        Assert.That(plan.Dropped, Is.EqualTo(60));
        Assert.That(plan.NextIfFired, Is.EqualTo(Utc("2026-12-03 12:01:00")));
    }

    [Test]
    public void Planner_fires_only_the_latest_missed_occurrence_when_catch_up_is_latest()
    {
        var plan = RecurringPlanner.Decide(Due("0 * * * * *", "11:00:00", now: "12:00:30", RecurringCatchUp.Latest, RecurringOverlap.Allow), Threshold, 100);

        Assert.That(plan.Fire, Is.EqualTo(new[] { Utc("2026-12-03 11:59:00"), Utc("2026-12-03 12:00:00") }));
        Assert.That(plan.Dropped, Is.EqualTo(59));
    }

    [Test]
    public void Planner_fires_every_missed_occurrence_within_the_window_when_catch_up_is_all()
    {
        var due = Due("0 * * * * *", "11:00:00", now: "12:00:30", RecurringCatchUp.All, RecurringOverlap.Allow) with { CatchUpWindow = TimeSpan.FromMinutes(10) };

        var plan = RecurringPlanner.Decide(due, Threshold, 100);

        Assert.That(plan.Fire, Has.Count.EqualTo(10), "11:51 to 11:59 missed and in the window (from 11:50:30), and 12:00 on time");
        Assert.That(plan.Fire[0], Is.EqualTo(Utc("2026-12-03 11:51:00")));
        Assert.That(plan.Dropped, Is.EqualTo(51), "11:00 to 11:50, before the window");
    }

    [Test]
    public void Planner_caps_a_catch_up_per_claim_and_goes_on_from_the_last_fired()
    {
        var due = Due("* * * * * *", "11:00:00", now: "12:00:00", RecurringCatchUp.All, RecurringOverlap.Allow) with { CatchUpWindow = TimeSpan.FromHours(2) };

        var plan = RecurringPlanner.Decide(due, Threshold, 100);

        Assert.That(plan.Fire, Has.Count.EqualTo(100));
        Assert.That(plan.NextIfFired, Is.EqualTo(Utc("2026-12-03 11:01:40")));
    }

    [Test]
    public void Planner_fires_one_occurrence_at_a_time_when_overlap_is_skip()
    {
        var plan = RecurringPlanner.Decide(Due("* * * * * *", "12:00:00", now: "12:00:02.5", RecurringCatchUp.None, RecurringOverlap.Skip), Threshold, 100);

        Assert.That(plan.Fire, Is.EqualTo(new[] { Utc("2026-12-03 12:00:00") }));
        Assert.That(plan.SkipWhileBusy, Is.True);
        Assert.That(plan.NextIfFired, Is.EqualTo(Utc("2026-12-03 12:00:01")), "the next occurrence is claimed next tick");
        Assert.That(plan.NextIfSkipped, Is.EqualTo(Utc("2026-12-03 12:00:03")), "a skip passes every due occurrence");
        Assert.That(plan.Skipped, Is.EqualTo(3), "12:00:00 to 12:00:02 passed over");
        Assert.That(plan.LastIfSkipped, Is.EqualTo(Utc("2026-12-03 12:00:02")));
    }

    [Test, Description("Nine days down with an hourly schedule and a 30-day window: 216 missed occurrences, 100 per claim; the claim must go on from the last fired, not jump to now.")]
    public void Planner_goes_on_from_the_last_fired_when_a_catch_up_fills_the_claim_with_missed_occurrences_only()
    {
        var due = Due("0 * * * *", "12:00:00", now: "12:30:00", RecurringCatchUp.All, RecurringOverlap.Allow) with
        {
            NextRunAt = Utc("2026-11-24 12:00:00"), CatchUpWindow = TimeSpan.FromDays(30),
        };

        var plan = RecurringPlanner.Decide(due, Threshold, 100);

        Assert.That(plan.Fire, Has.Count.EqualTo(100));
        Assert.That(plan.Fire[0], Is.EqualTo(Utc("2026-11-24 12:00:00")));
        Assert.That(plan.NextIfFired, Is.EqualTo(Utc("2026-11-28 16:00:00")), "the 101st missed occurrence, claimed next tick");
        Assert.That(plan.Dropped, Is.Zero);
    }

    [Test, Description("With Skip a catch-up fires one occurrence at a time, each after the previous one finished: while busy, the schedule waits at its first missed occurrence.")]
    public void Planner_holds_a_catch_up_while_busy_when_overlap_is_skip_and_catch_up_is_all()
    {
        var due = Due("0 * * * *", "09:00:00", now: "12:00:30", RecurringCatchUp.All, RecurringOverlap.Skip) with { CatchUpWindow = TimeSpan.FromDays(1) };

        var plan = RecurringPlanner.Decide(due, Threshold, 100);

        Assert.That(plan.Fire, Is.EqualTo(new[] { Utc("2026-12-03 09:00:00") }));
        Assert.That(plan.NextIfFired, Is.EqualTo(Utc("2026-12-03 10:00:00")));
        Assert.That(plan.NextIfSkipped, Is.EqualTo(Utc("2026-12-03 09:00:00")), "held: 09:00, 10:00, 11:00 still to be caught up");
        Assert.That(plan.Skipped, Is.Zero);
        Assert.That(plan.LastIfSkipped, Is.Null);
        Assert.That(plan.Dropped, Is.Zero);
    }

    [Test, Description("An occurrence that is not missed is skipped while busy even with CatchUp=All: there is nothing to catch up.")]
    public void Planner_skips_an_on_time_occurrence_while_busy_when_catch_up_is_all()
    {
        var plan = RecurringPlanner.Decide(Due("* * * * * *", "12:00:00", now: "12:00:02.5", RecurringCatchUp.All, RecurringOverlap.Skip), Threshold, 100);

        Assert.That(plan.Fire, Is.EqualTo(new[] { Utc("2026-12-03 12:00:00") }));
        Assert.That(plan.NextIfSkipped, Is.EqualTo(Utc("2026-12-03 12:00:03")));
        Assert.That(plan.Skipped, Is.EqualTo(3));
    }

    private static DueSchedule Due(string cron, string next, string now, RecurringCatchUp catchUp, RecurringOverlap overlap) =>
        new("k", cron, "UTC", overlap, catchUp, null, Utc($"2026-12-03 {next}"), Utc($"2026-12-03 {now}"));
}
