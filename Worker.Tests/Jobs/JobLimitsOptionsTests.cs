using JobWorker.Hosting;
using JobWorker.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Jobs;

/// <summary>The <c>Limits</c> section, read and checked at start with the worker's handlers known.</summary>
public sealed class JobLimitsOptionsTests
{
    [TestCase("10/1s", 10, 1)]
    [TestCase("100/1m", 100, 60)]
    [TestCase("5 / 30s", 5, 30)]
    [TestCase("2/00:01:00", 2, 60)]
    [TestCase("1/1d", 1, 86_400)]
    public void Rate_is_read_as_a_count_per_interval(string text, int count, int seconds)
    {
        var problem = LimitRate.TryParse(text, out var rate);

        Assert.That(problem, Is.Null);
        Assert.That(rate, Is.EqualTo(new LimitRate(count, TimeSpan.FromSeconds(seconds))));
    }

    [TestCase("10", "N/interval")]
    [TestCase("0/1s", "at least 1")]
    [TestCase("ten/1s", "at least 1")]
    [TestCase("10/fast", "like 1s")]
    [TestCase("10/500ms", "between 1 s and 1 day")]
    [TestCase("10/2d", "between 1 s and 1 day")]
    public void Rate_that_is_not_a_rate_is_refused_saying_why(string text, string why)
    {
        Assert.That(LimitRate.TryParse(text, out _), Does.Contain(why));
    }

    [Test]
    public void Limits_are_read_per_type()
    {
        using var services = Compose(new()
        {
            ["Limits:delay:Concurrency"] = "2", ["Limits:delay:PerKeyConcurrency"] = "1", ["Limits:noop:Rate"] = "100/1m",
        });

        var limits = services.GetRequiredService<IOptions<JobLimitsOptions>>().Value;

        Assert.That(limits.For("delay"), Is.EqualTo(new LimitRule("delay", 2, 1, null)));
        Assert.That(limits.For("noop"), Is.EqualTo(new LimitRule("noop", null, null, new LimitRate(100, TimeSpan.FromMinutes(1)))));
        Assert.That(limits.LimitedTypes, Is.EquivalentTo(new[] { "delay", "noop" }));
    }

    [TestCase("Limits:delay:Concurrency", "0", "Limits:delay:Concurrency is '0'; it must be a whole number of at least 1.")]
    [TestCase("Limits:delay:PerKeyConcurrency", "two", "Limits:delay:PerKeyConcurrency is 'two'; it must be a whole number of at least 1.")]
    [TestCase("Limits:delay:Rate", "10/1y", "Limits:delay:Rate '10/1y': the interval after '/' must be like")]
    [TestCase("Limits:delay:Concurency", "2", "Limits:delay:Concurency is not a limit setting (Concurrency, PerKeyConcurrency, Rate).")]
    [TestCase("Limits:delay", "2", "Limits:delay must be a section with Concurrency, PerKeyConcurrency, Rate.")]
    [TestCase("Limits:mail:Concurrency", "2", "Limits:mail: 'mail' is not a job type this worker handles")]
    [TestCase("Limits:de\tlay:Concurrency", "2", "Limits:de\tlay: a job type has at most 100 characters and no control character.")]
    public void A_bad_limit_stops_the_worker_naming_the_setting(string key, string value, string message)
    {
        using var services = Compose(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<JobLimitsOptions>>().Value);

        Assert.That(error!.Message, Does.Contain(message));
    }

    private static ServiceProvider Compose(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddJobWorker().AddBuiltInHandlers();
        return (ServiceProvider)builder.Services.BuildServiceProvider();
    }

    [Test, Description("The dispatcher's take names the limited types in its text, so it must leave them out wherever the text says so, quoted whatever they hold.")]
    public void Take_due_names_the_limited_types_in_each_part_as_quoted_constants()
    {
        var sql = JobSql.TakeDue(["b\\'x", "a"]);

        Assert.That(sql.Split("AND type <> ALL (ARRAY[E'a', E'b\\\\''x']::text[])").Length - 1, Is.EqualTo(2), "in the overdue part and the unsent part");
        Assert.That(sql, Does.Not.Contain("/* limited */"));
        Assert.That(JobSql.TakeDue([]), Does.Not.Contain("type <> ALL").And.Not.Contain("/* limited */"));
        Assert.That(JobSql.TakeDue(["a", "b\\'x"]), Is.SameAs(sql), "one text per set, whatever its order");
    }
}
