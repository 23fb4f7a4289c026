using System.Text.Json;

namespace JobWorker.Jobs;

/// <summary>
/// Runs one job type. Registered with <see cref="JobHandlerServiceCollectionExtensions.AddJobHandler{THandler}"/>
/// under its job type and resolved per job from the message's scope. No database connection is held while it runs.
/// </summary>
public interface IJobHandler
{
    /// <summary>
    /// Does the work. Returns the result to store (null for none). Throw <see cref="InvalidJobPayloadException"/>
    /// for input that will never succeed (no retry); any other exception fails this attempt and may be retried.
    /// Honour <paramref name="cancellationToken"/>: it fires on timeout and on shutdown.
    /// </summary>
    Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken);
}
