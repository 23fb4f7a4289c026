using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using JobWorker.Persistence;

namespace JobWorker.Tests.Telemetry;

/// <summary>The spans, instruments and log context an operator's OpenTelemetry pipeline receives from a worker.</summary>
public sealed class TelemetryTests
{
    private static readonly string[] Sources = ["JobWorker", "MassTransit", "Npgsql"];

    [Test]
    public async Task A_job_produces_transition_and_handler_spans_under_the_consume_span_and_the_key_instruments()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => Sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(tracing);
        var measurements = new ConcurrentDictionary<string, int>();
        using var metrics = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (Sources.Contains(instrument.Meter.Name))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        metrics.SetMeasurementEventCallback<long>((i, _, _, _) => measurements.AddOrUpdate(i.Name, 1, (_, n) => n + 1));
        metrics.SetMeasurementEventCallback<int>((i, _, _, _) => measurements.AddOrUpdate(i.Name, 1, (_, n) => n + 1));
        metrics.SetMeasurementEventCallback<double>((i, _, _, _) => measurements.AddOrUpdate(i.Name, 1, (_, n) => n + 1));
        metrics.Start();
        var logs = new LogCapture();
        await using var worker = await TestWorker.StartAsync(
            new() { ["Database:SlowStatementThreshold"] = "00:00:00.0000010" },
            worker => worker.Services.AddSingleton<ILoggerProvider>(logs));
        await using var client = await TestClient.StartAsync(worker.Queue);
        var job = TestJobs.Submit("delay", new { ms = 20 });
        var failing = TestJobs.Submit("delay", new { ms = "bad" });

        await client.SendAsync(worker.Queue, [job, failing]);
        await TestJobs.WaitForStateAsync(job.JobId, JobState.Succeeded, TimeSpan.FromSeconds(30));
        await TestJobs.WaitForStateAsync(failing.JobId, JobState.Failed, TimeSpan.FromSeconds(30));
        metrics.RecordObservableInstruments();

        var names = spans.Select(s => s.DisplayName).ToHashSet();
        Assert.That(names, Does.Contain("jobworker.transition accept-claim")
            .And.Contain("jobworker.job.run delay")
            .And.Contain("jobworker.transition apply-outcomes"));
        var run = spans.First(s => s.DisplayName == "jobworker.job.run delay" && (Guid?)s.GetTagItem("jobworker.job.id") == job.JobId);
        var consume = spans.Where(s => s.Source.Name == "MassTransit" && s.TraceId == run.TraceId).ToList();
        Assert.That(consume, Is.Not.Empty, "the handler span belongs to the trace of the message being consumed");
        Assert.That(spans.Any(s => s.DisplayName == "jobworker.transition accept-claim" && s.TraceId == run.TraceId), Is.True);
        Assert.That(spans.Any(s => s.DisplayName == "jobworker.transition apply-outcomes"
                && (s.TraceId == run.TraceId || s.Links.Any(l => l.Context.TraceId == run.TraceId))),
            Is.True, "the (batched) outcome write is in the job's trace, or linked to it");
        Assert.That(spans.Any(s => s.Source.Name == "Npgsql" && s.TraceId == run.TraceId), Is.True, "database commands join the same trace");

        Assert.That(measurements.Keys, Is.SupersetOf(new[]
        {
            "jobworker.jobs.accepted", "jobworker.jobs.started", "jobworker.jobs.succeeded", "jobworker.jobs.failed",
            "jobworker.job.duration", "jobworker.job.queue_wait", "jobworker.db.transition.duration", "jobworker.db.connection.hold",
            "jobworker.jobs.in_flight", "jobworker.db.circuit.state", "jobworker.db.slow_statements",
            "db.client.connection.count", "db.client.connection.max",
        }));

        var failureLog = logs.Entries.First(e => e.Message.Contains(failing.JobId.ToString(), StringComparison.Ordinal) && e.Level >= LogLevel.Warning);
        Assert.That(failureLog.TraceId, Is.Not.Null.And.Not.Empty, "a log written while consuming carries its trace id");
        Assert.That(logs.Entries.Any(e => e.Message.StartsWith("Slow SQL statement", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task The_status_log_reports_jobs_in_flight_rate_and_pool_usage()
    {
        var logs = new LogCapture();
        await using var worker = await TestWorker.StartAsync(
            new() { ["Logging:LogLevel:JobWorker"] = "Information" },
            worker => worker.Services.AddSingleton<ILoggerProvider>(logs));

        var status = await Eventually.WaitForAsync(
            () => Task.FromResult(logs.Entries.FirstOrDefault(e => e.Message.StartsWith("Status: ", StringComparison.Ordinal))),
            entry => entry is not null, TimeSpan.FromSeconds(15), "a status line");

        Assert.That(status!.Message, Does.Match(@"^Status: \d+/32 jobs in flight, \d+ waiting, [\d.]+ jobs/s, \d+/20 connections busy \(\d+ idle\), consumption running, \d+ events to publish, \d+ pool resets$"));
        Assert.That(logs.Entries.Any(e => e.Message.StartsWith("Connection budget: each replica opens at most 20 connections", StringComparison.Ordinal)), Is.True);
    }
}
