using System.Collections.Concurrent;
using System.Text.Json;
using JobWorker.Jobs;

namespace JobWorker.Tests;

/// <summary>
/// A test handler (type <c>record</c>) that counts its runs per job, fails while the attempt is at most
/// <c>failures</c>, and waits <c>ms</c>: <c>{"failures": 1, "ms": 50}</c>. With <c>"nul": true</c> its error and result hold
/// a NUL character, which PostgreSQL cannot store as it is.
/// </summary>
internal sealed class RecordingJobHandler(HandlerRuns runs) : IJobHandler
{
    public const string JobType = "record";

    public async Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken)
    {
        runs.Record(job.JobId);
        var failures = job.Payload.TryGetProperty("failures", out var f) ? f.GetInt32() : 0;
        var ms = job.Payload.TryGetProperty("ms", out var m) ? m.GetInt32() : 0;
        var nul = job.Payload.TryGetProperty("nul", out var n) && n.GetBoolean() ? "\0" : " ";
        await Task.Delay(ms, cancellationToken);
        if (job.Attempt <= failures)
        {
            throw new InvalidOperationException($"planned{nul}failure on attempt {job.Attempt}");
        }

        return nul == " "
            ? JsonSerializer.SerializeToElement(new { attempt = job.Attempt })
            : JsonSerializer.SerializeToElement(new { attempt = job.Attempt, text = $"a{nul}b" });
    }
}

/// <summary>How often each job's handler ran in this process.</summary>
internal sealed class HandlerRuns
{
    private readonly ConcurrentDictionary<Guid, int> _runs = new();

    public void Record(Guid jobId) => _runs.AddOrUpdate(jobId, 1, (_, n) => n + 1);

    public int For(Guid jobId) => _runs.GetValueOrDefault(jobId);
}
