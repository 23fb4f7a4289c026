using System.Text.Json;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>
/// samples/ReportHost, a team's own host on its own <c>WebApplication</c> builder, built against the packed JobWorker
/// package (`make sample`, which `make test` runs first), as a replica against the real services: its own job type
/// runs; the stock ones are not there; its command line reads its own configuration sources.
/// </summary>
public sealed class SampleHostTests
{
    private static string SampleAssembly => SampleBuild.Assembly("ReportHost", "reporthost.dll");

    [Test]
    public async Task The_sample_host_runs_its_own_job_type_and_only_that()
    {
        Assert.That(File.Exists(SampleAssembly), Is.True, $"{SampleAssembly} is not built: run `make sample` (`make test` does)");
        var output = Directory.CreateTempSubdirectory("reports-");
        var queue = TestWorker.UniqueQueue();
        await using var host = await TestWorker.StartProcessAsync(queue, new()
        {
            ["Reports:OutputDirectory"] = output.FullName,
            ["Reports:TimePerDay"] = "00:00:00.050",
        }, SampleAssembly);
        await using var client = await TestClient.StartAsync(queue);
        var report = TestJobs.Submit("sales-report", new { region = "emea", days = 20 });
        var badRegion = TestJobs.Submit("sales-report", new { region = "e/m" });
        var noRegion = TestJobs.Submit("sales-report", new { days = 3 });
        var stock = TestJobs.Submit("noop");

        await client.SendAsync(queue, [report, badRegion, noRegion, stock]);
        var counts = await TestJobs.WaitUntilFinishedAsync([report, badRegion, noRegion, stock], TimeSpan.FromSeconds(60));

        var rows = (await TestJobs.LoadAsync([report, badRegion, noRegion, stock])).ToDictionary(r => r.Id);
        Assert.That(rows[report.JobId].State, Is.EqualTo(JobState.Succeeded), TestJobs.Describe(counts) + host.Output);
        var result = JsonDocument.Parse(rows[report.JobId].Result!).RootElement;
        Assert.That(result.GetProperty("rows").GetInt32(), Is.EqualTo(20));
        var path = result.GetProperty("path").GetString()!;
        Assert.That(File.ReadAllLines(path), Has.Length.EqualTo(21), "a header and one line per day");
        Assert.That(Directory.GetFiles(output.FullName), Is.EqualTo(new[] { path }), "no partial file left behind");

        Assert.That(rows[badRegion.JobId].State, Is.EqualTo(JobState.Failed));
        Assert.That(rows[badRegion.JobId].Attempt, Is.EqualTo(1), "a bad payload is not retried");
        Assert.That(rows[badRegion.JobId].Error, Is.EqualTo("Invalid payload: sales-report: payload field $.region: expected 1 to 32 letters or digits, e.g. \"emea\", got \"e/m\""));
        Assert.That(rows[noRegion.JobId].Error, Is.EqualTo("Invalid payload: sales-report: payload field $.region: expected a string, got nothing (the field is missing)"));
        Assert.That(rows[stock.JobId].Error, Is.EqualTo("Unknown job type 'noop'. This worker handles: sales-report."));

        var slots = await host.SlotsAsync();
        Assert.That((slots.Busy, slots.Waiting, slots.Live), Is.EqualTo((0, 0, true)), "nothing left in flight; live");
        Assert.That(await host.IsReadyAsync(), Is.True);
        output.Delete(recursive: true);
    }

    [Test, Description("`reporthost submit` finds its queue only in the host's own REPORTHOST_ variables, and follows the job to the end.")]
    public async Task The_sample_hosts_command_line_reads_its_own_configuration_sources()
    {
        Assert.That(File.Exists(SampleAssembly), Is.True, $"{SampleAssembly} is not built: run `make sample` (`make test` does)");
        var output = Directory.CreateTempSubdirectory("reports-");
        var queue = TestWorker.UniqueQueue();
        await using var host = await TestWorker.StartProcessAsync(queue, new()
        {
            ["Reports:OutputDirectory"] = output.FullName,
            ["Reports:TimePerDay"] = "00:00:00.010",
        }, SampleAssembly);
        var settings = TestWorker.TestSettings(queue);
        settings.Remove("Jobs:QueueName");
        settings["REPORTHOST_Jobs:QueueName"] = queue;

        await using var submit = WorkerProcess.Start(SampleAssembly, settings,
            "submit", "--type", "sales-report", "--payload", """{"region": "emea", "days": 3}""", "--wait", "--wait-timeout", "00:00:45");
        var exitCode = await submit.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.That(exitCode, Is.EqualTo(0), submit.Output + host.Output);
        Assert.That(submit.Output, Does.Contain("(sales-report) to queue " + queue).And.Contain("All 1 jobs Succeeded."));
        output.Delete(recursive: true);
    }
}
