using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Resilience;
using JobWorker.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests.Settings;

/// <summary>A renamed setting's old key keeps working, loses to its new key, and is named in a warning either way.</summary>
public sealed class RenamedSettingsTests
{
    [Test]
    public void An_old_key_binds_in_its_new_place_unless_the_new_key_is_set_and_each_one_set_is_warned_about()
    {
        using var services = Compose(new()
        {
            ["Jobs:DefaultTimeout"] = "00:00:42",
            ["Jobs:RetryBaseDelay"] = "00:00:03",
            ["Jobs:RetryMaxDelay"] = "00:00:09",
            ["Retries:MaxDelay"] = "00:00:07",
            ["Resilience:RetryMaxDelay"] = "00:00:04",
        });

        var submissions = services.GetRequiredService<IOptions<SubmissionOptions>>().Value;
        var retries = services.GetRequiredService<IOptions<RetryOptions>>().Value;
        var resilience = services.GetRequiredService<IOptions<ResilienceOptions>>().Value;
        var warnings = RenamedSettings.Warnings(services.GetRequiredService<IConfiguration>()).ToList();

        Assert.That(submissions.DefaultTimeout, Is.EqualTo(TimeSpan.FromSeconds(42)), "the old key alone binds");
        Assert.That(submissions.MaxTimeout, Is.EqualTo(new SubmissionOptions().MaxTimeout), "an unset key keeps its default");
        Assert.That(retries.BaseDelay, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(retries.MaxDelay, Is.EqualTo(TimeSpan.FromSeconds(7)), "the new key wins over the old one");
        Assert.That(resilience.TransitionRetryMaxDelay, Is.EqualTo(TimeSpan.FromSeconds(4)));
        Assert.That(warnings, Has.Count.EqualTo(4));
        Assert.That(warnings, Has.One.EqualTo("Setting Jobs:DefaultTimeout is renamed Submissions:DefaultTimeout; the old key still works for now. Set Submissions:DefaultTimeout instead."));
        Assert.That(warnings, Has.One.EqualTo("Setting Jobs:RetryMaxDelay is ignored: it is renamed Retries:MaxDelay, which is set too. Remove Jobs:RetryMaxDelay."));
    }

    [Test]
    public void An_old_key_with_a_bad_value_is_named_in_the_error()
    {
        using var services = Compose(new() { ["Jobs:MaxPayloadBytes"] = "lots" });

        var error = Assert.Throws<InvalidOperationException>(() => _ = services.GetRequiredService<IOptions<SubmissionOptions>>().Value);

        Assert.That(error!.Message, Does.StartWith("Failed to convert configuration value").And.Contain("'Jobs:MaxPayloadBytes'"));
    }

    [Test]
    public void An_old_key_out_of_range_fails_validation_naming_the_setting()
    {
        using var services = Compose(new() { ["Jobs:DefaultMaxAttempts"] = "500" });

        var error = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<SubmissionOptions>>().Value);

        Assert.That(error!.Message, Does.Contain("Submissions:DefaultMaxAttempts must be between 1 and 100."));
    }

    private static ServiceProvider Compose(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddJobWorker();
        return (ServiceProvider)builder.Services.BuildServiceProvider();
    }
}
