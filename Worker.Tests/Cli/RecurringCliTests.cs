using JobWorker.Hosting;
using JobWorker.Persistence;

namespace JobWorker.Tests.Cli;

/// <summary><c>jobworker recurring</c> as an operator runs it: real processes, environment configuration, exit codes.</summary>
public sealed class RecurringCliTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<(int ExitCode, string Output)> RunAsync(Dictionary<string, string?> settings, params string[] args)
    {
        await using var process = WorkerProcess.Start(TestWorker.Executable, settings, args);
        var exitCode = await process.WaitForExitAsync(Timeout);
        return (exitCode, process.Output);
    }

    [Test]
    public async Task Recurring_add_list_pause_trigger_resume_and_remove_a_schedule()
    {
        await using var worker = await TestWorker.StartAsync();
        var settings = TestWorker.TestSettings(worker.Queue);
        var key = $"cli-{worker.Queue}";

        var (addExit, addOutput) = await RunAsync(settings, "recurring", "add", key, "--cron", "0 30 2 * * *", "--type", "noop", "--time-zone", "Europe/Berlin");
        var (pauseExit, pauseOutput) = await RunAsync(settings, "recurring", "pause", key);
        var (triggerExit, triggerOutput) = await RunAsync(settings, "recurring", "trigger", key);
        var triggered = await RecurringLedger.Control.FindAsync(key, CancellationToken.None);
        await TestJobs.WaitForStateAsync(triggered!.LastJobId!.Value, JobState.Succeeded, Timeout);
        var (listExit, listOutput) = await RunAsync(settings, "recurring", "list");
        var (resumeExit, resumeOutput) = await RunAsync(settings, "recurring", "resume", key);
        var (removeExit, removeOutput) = await RunAsync(settings, "recurring", "remove", key);
        var (againExit, againOutput) = await RunAsync(settings, "recurring", "remove", key);

        Assert.That(addExit, Is.EqualTo(0), addOutput);
        Assert.That(addOutput, Does.Contain($"Schedule {key} (0 30 2 * * * Europe/Berlin) of queue {worker.Queue} is in place"));
        Assert.That(pauseExit, Is.EqualTo(0), pauseOutput);
        Assert.That(triggerExit, Is.EqualTo(0), triggerOutput);
        Assert.That(triggerOutput, Does.Contain($"job {triggered.LastJobId} runs now"));
        Assert.That(listExit, Is.EqualTo(0), listOutput);
        Assert.That(listOutput, Does.Contain(key).And.Contain("Europe/Berlin").And.Contain("paused").And.Contain("Succeeded").And.Contain("Runtime"));
        Assert.That(resumeExit, Is.EqualTo(0), resumeOutput);
        Assert.That(resumeOutput, Does.Contain($"Schedule {key} is resumed: it fires next at"));
        Assert.That(removeExit, Is.EqualTo(0), removeOutput);
        Assert.That(againExit, Is.Not.EqualTo(0));
        Assert.That(againOutput, Does.Contain($"There is no schedule {key}."));
    }

    [Test]
    public async Task Recurring_add_refuses_a_bad_cron_expression_and_names_it()
    {
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());

        var (exitCode, output) = await RunAsync(settings, "recurring", "add", $"bad-{settings["Jobs:QueueName"]}", "--cron", "every minute", "--type", "noop");

        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("The cron expression 'every minute' is not a valid cron expression"));
    }
}
