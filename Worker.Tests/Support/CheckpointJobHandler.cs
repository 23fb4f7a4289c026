using System.Text.Json;
using JobWorker.Jobs;

namespace JobWorker.Tests;

/// <summary>
/// A test handler (type <c>checkpoint</c>) that works through <c>items</c> items, saving its position after each; its
/// first attempt fails after <c>failAfter</c> of them. Its result says where the attempt began, so a test sees a resume.
/// </summary>
internal sealed class CheckpointJobHandler : IJobHandler
{
    public const string JobType = "checkpoint";

    public async Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken)
    {
        var items = job.Payload.GetProperty("items").GetInt32();
        var failAfter = job.Payload.GetProperty("failAfter").GetInt32();
        var start = job.CheckpointAs<Position>()?.Next ?? 0;
        for (var next = start; next < items; next++)
        {
            if (job.Attempt == 1 && next == failAfter)
            {
                throw new InvalidOperationException($"checkpoint: failing once after {failAfter} items");
            }

            await job.SaveCheckpointAsync(new Position(next + 1), cancellationToken);
        }

        return JsonSerializer.SerializeToElement(new { resumedFrom = start, attempt = job.Attempt, done = items });
    }

    internal sealed record Position(int Next);
}
