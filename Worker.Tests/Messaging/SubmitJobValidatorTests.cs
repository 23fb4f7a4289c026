using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Messaging;

namespace JobWorker.Tests.Messaging;

public sealed class SubmitJobValidatorTests
{
    private static string? Validate(SubmitJob message) => SubmitJobValidator.Validate(message, new SubmissionOptions(), out _);

    [Test, Description("The limit is on the list as sent: a message of a million copies of one id is refused before any set of them is built.")]
    public void Validate_rejects_more_ids_than_the_limit_when_they_are_duplicates()
    {
        var parent = Guid.NewGuid();
        var message = TestJobs.Submit("noop") with { After = [.. Enumerable.Repeat(parent, 1_000_000)] };

        Assert.That(Validate(message), Is.EqualTo($"After lists 1000000 parent jobs; the limit is {JobLimits.MaxParents}."));
    }

    [Test]
    public void Validate_accepts_the_limit_of_parents()
    {
        var message = TestJobs.Submit("noop") with { After = [.. Enumerable.Range(0, JobLimits.MaxParents).Select(_ => Guid.NewGuid())] };

        Assert.That(Validate(message), Is.Null);
    }

    [TestCase(201)]
    [TestCase(0)]
    public void Validate_rejects_a_concurrency_key_too_long_or_with_a_nul(int length)
    {
        var message = TestJobs.Submit("noop") with { ConcurrencyKey = length == 0 ? "tenant\0a" : new string('k', length) };

        Assert.That(Validate(message), Is.EqualTo("ConcurrencyKey must be at most 200 characters, with no NUL character."));
    }

    [Test]
    public void A_concurrency_key_is_carried_to_the_job()
    {
        var message = TestJobs.Submit("noop") with { ConcurrencyKey = "tenant-a" };

        var job = SubmitJobValidator.ToNewJob(message, new SubmissionOptions(), "jobs", "{}");

        Assert.That(Validate(message), Is.Null);
        Assert.That(job.ConcurrencyKey, Is.EqualTo("tenant-a"));
    }
}
