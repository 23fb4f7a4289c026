using Microsoft.Extensions.Logging;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Tests.Jobs;

/// <summary>The job log lines that take an optional value read as words when it is missing, never "(null)".</summary>
public sealed class JobLogMessageTests
{
    [Test]
    public void Job_log_lines_do_not_print_null_when_an_optional_value_is_missing()
    {
        using var capture = new LogCapture();
        var logger = capture.CreateLogger("JobWorker.Jobs");
        var id = Guid.NewGuid();

        JobProcessor.LogAttemptFailed(logger, id, "noop", 1, null, null);
        JobProcessor.LogJobFailed(logger, id, "noop", 2, null);
        JobProcessor.LogReleased(logger, id, 3, null, JobState.Pending);
        JobProcessor.LogCancelled(logger, id, 4, null);
        ContinuationReleaser.LogCancelled(logger, id, null);
        JobRescuer.LogRescued(logger, id, 5, "Pending", null);

        Assert.That(capture.Entries, Has.Count.EqualTo(6));
        Assert.That(capture.Entries.Select(e => e.Message), Has.None.Contains("(null)"));
    }

    [Test]
    public void Attempt_failed_log_line_names_the_retry_delay_when_there_is_one()
    {
        using var capture = new LogCapture();
        var logger = capture.CreateLogger("JobWorker.Jobs");

        JobProcessor.LogAttemptFailed(logger, Guid.NewGuid(), "noop", 1, TimeSpan.FromSeconds(90), "boom");

        Assert.That(capture.Entries.Single().Message, Does.Contain("retry after: 00:01:30").And.EndWith(": boom"));
    }
}
