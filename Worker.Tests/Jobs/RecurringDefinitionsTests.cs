using System.ComponentModel.DataAnnotations;
using JobWorker.Jobs;
using Microsoft.Extensions.Configuration;

namespace JobWorker.Tests.Jobs;

/// <summary>Schedules read from <c>Recurring:&lt;key&gt;</c> and from code, before any worker starts.</summary>
public sealed class RecurringDefinitionsTests
{
    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static RecurringDefinition Code(string key, string cron) =>
        new(key, cron, "noop", "null", "UTC", null, null, RecurringOverlap.Skip, RecurringCatchUp.None, null, RecurringSource.Code);

    [Test]
    public void Configuration_wins_over_code_for_the_same_key()
    {
        var definitions = new RecurringDefinitions(
            Configuration(new() { ["Recurring:nightly:Cron"] = "0 0 3 * * *", ["Recurring:nightly:Type"] = "noop" }),
            [Code("nightly", "0 0 4 * * *"), Code("hourly", "0 0 * * * *")]);

        Assert.That(definitions.Problems, Is.Empty);
        Assert.That(definitions.All.Select(d => (d.Key, d.Cron, d.Source)), Is.EquivalentTo(new[]
        {
            ("nightly", "0 0 3 * * *", RecurringSource.Configuration), ("hourly", "0 0 * * * *", RecurringSource.Code),
        }));
        Assert.That(definitions.Overridden, Is.EqualTo(new[] { "nightly" }));
    }

    [Test]
    public void Settings_of_the_section_are_not_schedules_and_every_field_is_read()
    {
        var definitions = new RecurringDefinitions(Configuration(new()
        {
            ["Recurring:PollInterval"] = "00:00:02",
            ["Recurring:report:Cron"] = "0 9 * * MON-FRI", ["Recurring:report:Type"] = "noop", ["Recurring:report:Payload"] = """{"to": "ops"}""",
            ["Recurring:report:TimeZone"] = "Europe/Berlin", ["Recurring:report:MaxAttempts"] = "5", ["Recurring:report:Timeout"] = "00:10:00",
            ["Recurring:report:Overlap"] = "allow", ["Recurring:report:CatchUp"] = "All", ["Recurring:report:CatchUpWindow"] = "02:00:00",
        }), []);

        Assert.That(definitions.Problems, Is.Empty);
        Assert.That(definitions.All, Is.EqualTo(new[]
        {
            new RecurringDefinition("report", "0 9 * * MON-FRI", "noop", """{"to": "ops"}""", "Europe/Berlin", 5, TimeSpan.FromMinutes(10),
                RecurringOverlap.Allow, RecurringCatchUp.All, TimeSpan.FromHours(2), RecurringSource.Configuration),
        }));
    }

    [Test]
    public void Each_bad_field_is_named()
    {
        var definitions = new RecurringDefinitions(Configuration(new()
        {
            ["Recurring:a:Cron"] = "* * * * * *", ["Recurring:a:Type"] = "noop", ["Recurring:a:Crom"] = "typo",
            ["Recurring:a:Overlap"] = "Sometimes", ["Recurring:a:CatchUp"] = "1", ["Recurring:a:MaxAttempts"] = "0",
            ["Recurring:b:Type"] = "noop",
        }), [Code("c", "not cron"), Code("c", "* * * * *")]);

        Assert.That(definitions.Problems, Is.EquivalentTo(new[]
        {
            "Recurring:a:Crom is not a setting of a schedule; it has Cron, Type, Payload, TimeZone, MaxAttempts, Timeout, Overlap, CatchUp, CatchUpWindow.",
            "Recurring:a:MaxAttempts is 0; it must be between 1 and 100.",
            "Recurring:a:Overlap is 'Sometimes'; it must be Skip or Allow.",
            "Recurring:a:CatchUp is '1'; it must be None, Latest or All.",
            "Recurring:b:Cron is required (five fields, or six with seconds first, e.g. '0 */5 * * * *').",
            "AddRecurringJob(\"c\"): the cron expression 'not cron' is not a valid cron expression: " + CronosMessage("not cron") + ".",
            "AddRecurringJob(\"c\"): the key is added twice in code (keys do not differ by case alone); add each schedule once.",
        }));
        Assert.That(definitions.All, Is.Empty);
    }

    [Test]
    public void Misfire_threshold_under_two_poll_intervals_fails_validation_naming_both_settings()
    {
        var options = new RecurringOptions { PollInterval = TimeSpan.FromSeconds(1), MisfireThreshold = TimeSpan.FromMilliseconds(1500) };
        var results = new List<ValidationResult>();

        var valid = Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.That(valid, Is.False);
        Assert.That(results, Has.Count.EqualTo(1));
        Assert.That(results[0].ErrorMessage, Does.Contain("Recurring:MisfireThreshold").And.Contain("Recurring:PollInterval"));
        var defaults = new RecurringOptions();
        Assert.That(Validator.TryValidateObject(defaults, new ValidationContext(defaults), [], validateAllProperties: true), Is.True, "the defaults are valid");
    }

    [Test, Description("Values the recurring_jobs columns cannot hold fail at start, naming the setting, instead of failing the start-up sync for ever.")]
    public void Values_the_ledger_cannot_store_are_named()
    {
        var longZone = new string('Z', 101);
        var definitions = new RecurringDefinitions(Configuration(new()
        {
            ["Recurring:a:Cron"] = "* * * * * *", ["Recurring:a:Type"] = new string('t', 101),
            ["Recurring:a:Payload"] = """{"text": "nul \u0000 here"}""",
        }), [Code("b", "* * * * * *") with { TimeZone = longZone, PayloadJson = """["\u0000"]""" }]);

        Assert.That(definitions.Problems, Has.Some.StartsWith("Recurring:a:Type is 101 characters long; at most 100 are stored"));
        Assert.That(definitions.Problems, Has.Some.StartsWith("Recurring:a:Payload holds the character \\u0000"));
        Assert.That(definitions.Problems, Has.Some.StartsWith("AddRecurringJob(\"b\"): TimeZone"));
        Assert.That(definitions.Problems, Has.Some.StartsWith("AddRecurringJob(\"b\"): the payload holds the character \\u0000"));
        Assert.That(definitions.All, Is.Empty);
    }

    [Test, Description("Configuration keys do not differ by case, so a code schedule is overridden by its configuration whatever the case, and two code keys differing by case alone are refused: either would otherwise be two rows firing twice.")]
    public void Keys_that_differ_only_by_case_are_one_schedule()
    {
        var overridden = new RecurringDefinitions(
            Configuration(new() { ["Recurring:nightly:Cron"] = "0 0 3 * * *", ["Recurring:nightly:Type"] = "noop" }),
            [Code("Nightly", "0 0 4 * * *")]);
        var twice = new RecurringDefinitions(Configuration([]), [Code("Nightly", "0 0 4 * * *"), Code("nightly", "0 0 5 * * *")]);

        Assert.That(overridden.Problems, Is.Empty);
        Assert.That(overridden.All.Select(d => (d.Key, d.Source)), Is.EqualTo(new[] { ("nightly", RecurringSource.Configuration) }));
        Assert.That(overridden.Overridden, Is.EqualTo(new[] { "Nightly" }));
        Assert.That(twice.Problems, Is.EqualTo(new[] { "AddRecurringJob(\"nightly\"): the key is added twice in code (keys do not differ by case alone); add each schedule once." }));
        Assert.That(twice.All.Select(d => d.Key), Is.EqualTo(new[] { "Nightly" }));
    }

    [Test]
    public void A_value_where_a_setting_or_a_schedule_belongs_is_named()
    {
        var definitions = new RecurringDefinitions(Configuration(new()
        {
            ["Recurring:nightly"] = "0 3 * * *", ["Recurring:PollIntervall"] = "00:00:02", ["Recurring:pollinterval"] = "00:00:02",
        }), []);

        Assert.That(definitions.Problems, Is.EquivalentTo(new[]
        {
            "Recurring:nightly is neither a setting (PollInterval, MisfireThreshold, MaxJobsPerClaim) nor a schedule (a section with Cron and Type).",
            "Recurring:PollIntervall is neither a setting (PollInterval, MisfireThreshold, MaxJobsPerClaim) nor a schedule (a section with Cron and Type).",
        }));
    }

    [Test]
    public void A_cron_expression_that_never_occurs_is_named()
    {
        var definitions = new RecurringDefinitions(Configuration(new()
        {
            ["Recurring:leap:Cron"] = "0 0 30 2 *", ["Recurring:leap:Type"] = "noop",
        }), []);

        Assert.That(definitions.Problems, Is.EqualTo(new[]
        {
            "Recurring:leap:Cron '0 0 30 2 *' never occurs (no date matches every field).",
        }));
    }

    private static string CronosMessage(string expression)
    {
        try
        {
            RecurringCron.Parse(expression);
            return "";
        }
        catch (Cronos.CronFormatException e)
        {
            return e.Message;
        }
    }
}
