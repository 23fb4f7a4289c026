using System.Diagnostics;
using JobWorker.Hosting;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace JobWorker.Tests.Telemetry;

/// <summary>
/// The worker's signals through the OpenTelemetry hosting SDK: what an exporter receives, Polly's reports of the transition
/// pipeline, and when the SDK exports over OTLP.
/// </summary>
public sealed class OpenTelemetrySdkTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed record Exported(List<Activity> Spans, List<MetricSnapshot> Metrics)
    {
        public static Exported Into(JobWorkerBuilder worker)
        {
            var exported = new Exported([], []);
            // The host's own SDK, with an exporter of its choice: JobWorker's sources and instrumentation join it.
            worker.Services.AddOpenTelemetry()
                .WithTracing(tracing => tracing.AddInMemoryExporter(exported.Spans))
                .WithMetrics(metrics => metrics.AddInMemoryExporter(exported.Metrics));
            return exported;
        }

        public void Flush(IServiceProvider services)
        {
            Assert.That(services.GetRequiredService<TracerProvider>().ForceFlush(10_000), Is.True, "spans flushed");
            Assert.That(services.GetRequiredService<MeterProvider>().ForceFlush(10_000), Is.True, "metrics flushed");
        }

        public IEnumerable<MetricPoint> Points(string name)
        {
            lock (Metrics)
            {
                return [.. Metrics.Where(m => m.Name == name).SelectMany(m => m.MetricPoints)];
            }
        }

        public HashSet<string> MetricNames()
        {
            lock (Metrics)
            {
                return [.. Metrics.Select(m => m.Name)];
            }
        }
    }

    [Test, Description("Npgsql's spans and metrics, the runtime's and JobWorker's job metrics all reach an exporter of the hosting SDK.")]
    public async Task A_run_of_jobs_exports_npgsql_runtime_and_job_signals_through_the_hosting_sdk()
    {
        Exported exported = null!;
        await using var worker = await TestWorker.StartAsync(worker: worker => exported = Exported.Into(worker));
        var jobs = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => JobFactory.InsertAsync(queue: worker.Queue)));
        var failing = await JobFactory.InsertAsync(queue: worker.Queue, type: "delay", payload: """{"ms":"bad"}""", maxAttempts: 1);
        foreach (var job in jobs)
        {
            await TestJobs.WaitForStateAsync(job.Id, JobState.Succeeded, Timeout);
        }

        await TestJobs.WaitForStateAsync(failing.Id, JobState.Failed, Timeout);

        exported.Flush(worker.Services);

        Assert.That(exported.Spans.Any(s => s.Source.Name == "Npgsql"), Is.True, "Npgsql's command spans");
        Assert.That(exported.Spans.Any(s => s.DisplayName == "jobworker.job.run noop"), Is.True, "JobWorker's own spans");
        string[] expected =
        [
            "jobworker.jobs.succeeded", "jobworker.job.duration", "jobworker.db.transition.duration",
            "db.client.operation.duration", "db.client.connection.count",
            "dotnet.gc.collections", "dotnet.thread_pool.thread.count", "dotnet.exceptions",
        ];
        Assert.That(expected.Except(exported.MetricNames()), Is.Empty, "metrics not exported");
        Assert.That(exported.Points("jobworker.jobs.succeeded").Sum(p => p.GetSumLong()), Is.GreaterThanOrEqualTo(5));
        var resource = worker.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.That(resource["service.name"], Is.EqualTo("jobworker"));
        Assert.That(resource["service.instance.id"], Is.EqualTo(worker.Services.GetRequiredService<JobWorker.Jobs.WorkerIdentity>().Id));
    }

    [Test, Description("Polly.Extensions reports the retry of a transition that met a broken connection; the pool is still reset before it.")]
    public async Task A_broken_connection_in_a_transition_is_reported_by_polly_and_resets_the_pool()
    {
        var faults = new StatementFaults();
        var failures = 0;
        faults.FailBefore("apply-outcomes", () => Interlocked.Increment(ref failures) == 1
            ? new NpgsqlException("Exception while reading from stream", new IOException("connection reset by peer"))
            : null);
        var logs = new LogCapture();
        Exported exported = null!;
        // The stock appsettings.json logs Information; the test settings would hide it.
        await using var worker = await TestWorker.StartAsync(new() { ["Logging:LogLevel:Polly"] = "Information" }, worker =>
        {
            exported = Exported.Into(worker);
            worker.Services.AddSingleton<IInterceptor>(faults);
            worker.Services.AddSingleton<ILoggerProvider>(logs);
        });
        var job = await JobFactory.InsertAsync(queue: worker.Queue);

        await TestJobs.WaitForStateAsync(job.Id, JobState.Succeeded, Timeout);
        exported.Flush(worker.Services);

        Assert.That(failures, Is.GreaterThanOrEqualTo(2), "the outcome write failed once, then went through");
        Assert.That(worker.Services.GetRequiredService<JobDatabase>().Resets, Is.EqualTo(1), "the broken connection reset the pool");
        var retries = exported.Points("resilience.polly.strategy.events").Where(p => Tags(p) is var tags
            && tags.GetValueOrDefault("event.name") as string == "OnRetry"
            && tags.GetValueOrDefault("pipeline.name") as string == TransitionResilience.PipelineName
            && tags.GetValueOrDefault("exception.type") as string == typeof(NpgsqlException).FullName).ToList();
        Assert.That(retries.Sum(p => p.GetSumLong()), Is.EqualTo(1), "Polly's retry event, by pipeline and error");
        var pollyLogs = logs.Entries.Where(e => e.Category == "Polly" && e.Level >= LogLevel.Information).ToList();
        Assert.That(pollyLogs, Has.Count.EqualTo(1), "one line for the one retry; attempts and executions that went well stay at Debug");
        Assert.That(pollyLogs[0].Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(pollyLogs[0].Message, Does.Contain("EventName: 'OnRetry'").And.Contain(TransitionResilience.PipelineName)
            .And.Contain("Exception while reading from stream"));
    }

    [Test, Description("With OTEL_EXPORTER_OTLP_ENDPOINT set, the worker exports traces, metrics and logs there under the OTEL_* settings, and stops cleanly.")]
    public async Task A_worker_exports_over_otlp_to_the_configured_endpoint_and_stops_cleanly()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var service = $"jobworker-otlp-{Guid.NewGuid():N}";
        var worker = await TestWorker.StartAsync(new()
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = service,
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment.name=otlp-test",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        try
        {
            var job = await JobFactory.InsertAsync(queue: worker.Queue);
            await TestJobs.WaitForStateAsync(job.Id, JobState.Succeeded, Timeout);

            // Each signal is exported on its own schedule: wait for what is expected in it, then say what arrived.
            (string Signal, string Text)[] expected =
            [
                ("/v1/traces", service), ("/v1/metrics", service), ("/v1/logs", service),
                ("/v1/traces", "otlp-test"), ("/v1/traces", "jobworker.transition"), ("/v1/metrics", "jobworker.jobs.succeeded"),
            ];
            await Eventually.WaitForAsync(
                () => Task.FromResult(string.Join(", ", expected.Where(e => !collector.Received(e.Signal, e.Text)).Select(e => $"{e.Text} in {e.Signal}"))),
                missing => missing.Length == 0, Timeout, "traces, metrics and logs under OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES");

            Assert.That(expected.Where(e => !collector.Received(e.Signal, e.Text)), Is.Empty,
                "the resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) and JobWorker's spans and metrics reached the collector");
        }
        finally
        {
            await StopWithinAsync(worker);
        }
    }

    [Test, Description("Without an OTLP endpoint no SDK is created, so nothing is recorded for export, and the worker runs and stops as before.")]
    public async Task A_worker_without_an_otlp_endpoint_creates_no_sdk_and_stops_cleanly()
    {
        var worker = await TestWorker.StartAsync();
        try
        {
            var job = await JobFactory.InsertAsync(queue: worker.Queue);
            await TestJobs.WaitForStateAsync(job.Id, JobState.Succeeded, Timeout);

            Assert.That(worker.Services.GetService<TracerProvider>(), Is.Null);
            Assert.That(worker.Services.GetService<MeterProvider>(), Is.Null);
        }
        finally
        {
            await StopWithinAsync(worker);
        }
    }

    [Test, Description("A host that exports over OTLP itself turns JobWorker's export off (OpenTelemetry refuses UseOtlpExporter beside AddOtlpExporter); JobWorker's spans still reach the host's exporter.")]
    public async Task A_host_with_its_own_otlp_exporter_takes_the_sdk_over_and_receives_the_workers_spans()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var worker = await TestWorker.StartAsync(new()
        {
            ["Telemetry:OtlpExport"] = "false",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        }, worker => worker.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddOtlpExporter()));
        try
        {
            var job = await JobFactory.InsertAsync(queue: worker.Queue);
            await TestJobs.WaitForStateAsync(job.Id, JobState.Succeeded, Timeout);

            await Eventually.WaitForAsync(() => Task.FromResult(collector.Received("/v1/traces", "jobworker.job.run")), received => received, Timeout,
                "the worker's spans through the host's own exporter");
            Assert.That(worker.Services.GetService<MeterProvider>(), Is.Null, "JobWorker added no SDK of its own");
        }
        finally
        {
            await StopWithinAsync(worker);
        }
    }

    private static async Task StopWithinAsync(TestWorker worker)
    {
        var stopping = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(Timeout);
        await worker.Host.StopAsync(timeout.Token);
        await worker.DisposeAsync();
        Assert.That(stopping.Elapsed, Is.LessThan(Timeout), "the host stops, flushing, within its bound");
    }

    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }
}
