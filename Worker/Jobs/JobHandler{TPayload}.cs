using System.Text.Json;

namespace JobWorker.Jobs;

/// <summary>
/// A handler whose payload is a <typeparamref name="TPayload"/>: the worker reads the job's JSON payload into it (camelCase,
/// names in any case) and calls <see cref="RunAsync(TPayload, JobRun, CancellationToken)"/>; the job has no result. A
/// payload that does not bind (a field of the wrong type, a required member missing, null where the type allows none)
/// fails the job at once, without retries, with an error naming the field:
/// <c>Invalid payload: email-digest: payload field $.days: expected a number, got a string</c>.
/// </summary>
/// <remarks>
/// Register it as any handler: <c>builder.AddJobWorker().AddJobHandler&lt;DigestHandler&gt;("email-digest")</c>. Members
/// marked <c>required</c> or <c>[JsonRequired]</c>, and a record's constructor parameters without a default, must be
/// present; numbers are never read from strings. For a result, derive from <see cref="JobHandler{TPayload, TResult}"/>.
/// </remarks>
/// <typeparam name="TPayload">The payload's type, e.g. <c>record DigestRequest(string Mailbox, int Days = 7)</c>.</typeparam>
public abstract class JobHandler<TPayload> : IJobHandler
{
    /// <summary>
    /// How the payload is read: System.Text.Json's web defaults, numbers not from strings, nullable annotations and
    /// constructor parameters respected. Override to add converters (e.g. enums by name); keep it one shared instance.
    /// </summary>
    protected virtual JsonSerializerOptions SerializerOptions => JobPayloadJson.Options;

    /// <summary>Reads the payload and runs <see cref="RunAsync(TPayload, JobRun, CancellationToken)"/>; the job's result is null.</summary>
    public async Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        await RunAsync(JobPayloadJson.Bind<TPayload>(job, SerializerOptions), job, cancellationToken);
        return null;
    }

    /// <summary>
    /// Does the work, as <see cref="IJobHandler.RunAsync"/> says: throw <see cref="InvalidJobPayloadException"/> for a
    /// payload that binds but can never succeed (no retry); any other exception fails the attempt and may be retried.
    /// </summary>
    protected abstract Task RunAsync(TPayload payload, JobRun job, CancellationToken cancellationToken);
}
