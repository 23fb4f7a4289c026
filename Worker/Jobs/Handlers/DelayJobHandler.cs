using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace JobWorker.Jobs.Handlers;

/// <summary>
/// Simulates long work: waits <c>{"ms": 250}</c>, or a random time in <c>{"minMs": 50, "maxMs": 500}</c>,
/// then returns <c>{"sleptMs": n}</c>, reporting its progress every second. With <c>"failPercent": 20</c> that share of attempts fails after the wait, so
/// demos have failures to retry. For demos, benchmarks and tests.
/// </summary>
internal sealed class DelayJobHandler : IJobHandler
{
    public const string JobType = "delay";
    private const int MaxDelayMs = 24 * 60 * 60 * 1000;
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(1);

    public async Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken)
    {
        var ms = ReadDelay(job.Payload);
        var failPercent = ReadFailPercent(job.Payload);
        await SleepAsync(job, ms, cancellationToken);
        if (failPercent > 0 && Random.Shared.Next(100) < failPercent)
        {
            throw new SimulatedFailureException($"delay: simulated failure after {ms} ms (failPercent {failPercent}).");
        }

        return JsonSerializer.SerializeToElement(new { sleptMs = ms });
    }

    /// <summary>
    /// Sleeps <paramref name="ms"/>, reporting progress every second (elapsed of the whole, in ms) for a delay longer than
    /// a second, and once at the end. The sleep is one timer, so reporting does not stretch it; a delay of a second or less
    /// reports nothing, so the benchmarks' short jobs cost no progress writes.
    /// </summary>
    private static async Task SleepAsync(JobRun job, int ms, CancellationToken cancellationToken)
    {
        var sleeping = Task.Delay(ms, cancellationToken);
        if (ms <= ReportEvery.TotalMilliseconds)
        {
            await sleeping;
            return;
        }

        var started = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(ReportEvery);
        while (await Task.WhenAny(sleeping, timer.WaitForNextTickAsync(cancellationToken).AsTask()) != sleeping)
        {
            var elapsed = (long)Math.Min(ms, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            await job.ReportProgressAsync(elapsed, ms, Describe(elapsed, ms), cancellationToken);
        }

        await sleeping;
        await job.ReportProgressAsync(ms, ms, Describe(ms, ms), cancellationToken);
    }

    private static string Describe(long elapsed, int ms) =>
        string.Create(CultureInfo.InvariantCulture, $"slept {elapsed / 1000.0:0} of {ms / 1000.0:0.#} s");

    internal static int ReadDelay(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidJobPayloadException("delay: payload must be an object such as {\"ms\": 250} or {\"minMs\": 50, \"maxMs\": 500}.");
        }

        if (payload.TryGetProperty("ms", out var ms))
        {
            return ReadMilliseconds(ms, "ms");
        }

        if (payload.TryGetProperty("minMs", out var min) && payload.TryGetProperty("maxMs", out var max))
        {
            var (low, high) = (ReadMilliseconds(min, "minMs"), ReadMilliseconds(max, "maxMs"));
            if (low > high)
            {
                throw new InvalidJobPayloadException($"delay: minMs ({low}) is greater than maxMs ({high}).");
            }

            return Random.Shared.Next(low, high + 1);
        }

        throw new InvalidJobPayloadException("delay: payload needs \"ms\", or both \"minMs\" and \"maxMs\".");
    }

    internal static int ReadFailPercent(JsonElement payload) =>
        payload.ValueKind != JsonValueKind.Object || !payload.TryGetProperty("failPercent", out var value) ? 0
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var percent) && percent is >= 0 and <= 100 ? percent
        : throw new InvalidJobPayloadException("delay: \"failPercent\" must be a whole number from 0 to 100.");

    private static int ReadMilliseconds(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var ms) && ms is >= 0 and <= MaxDelayMs
            ? ms
            : throw new InvalidJobPayloadException($"delay: \"{name}\" must be a whole number of milliseconds from 0 to {MaxDelayMs}.");
}

/// <summary>The failure <c>failPercent</c> asks for: an ordinary handler error, retried like any other.</summary>
internal sealed class SimulatedFailureException(string message) : Exception(message);
