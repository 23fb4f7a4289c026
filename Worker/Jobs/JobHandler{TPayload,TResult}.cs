using System.Text.Json;

namespace JobWorker.Jobs;

/// <summary>
/// A handler whose payload is a <typeparamref name="TPayload"/> and whose result is a <typeparamref name="TResult"/>,
/// stored as the job's result (serialised camelCase; null stores none). The payload is read as
/// <see cref="JobHandler{TPayload}"/> reads it, and one that does not bind fails the job at once, naming the field.
/// </summary>
/// <typeparam name="TPayload">The payload's type.</typeparam>
/// <typeparam name="TResult">The result's type, e.g. <c>record DigestResult(int Sent)</c>.</typeparam>
public abstract class JobHandler<TPayload, TResult> : IJobHandler
{
    /// <summary>How the payload is read and the result written; see <see cref="JobHandler{TPayload}"/>.</summary>
    protected virtual JsonSerializerOptions SerializerOptions => JobPayloadJson.Options;

    /// <summary>Reads the payload, runs <see cref="RunAsync(TPayload, JobRun, CancellationToken)"/> and returns its result as JSON.</summary>
    public async Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var result = await RunAsync(JobPayloadJson.Bind<TPayload>(job, SerializerOptions), job, cancellationToken);
        return JobPayloadJson.Result(result, SerializerOptions);
    }

    /// <summary>Does the work and returns the job's result; exceptions as in <see cref="JobHandler{TPayload}"/>.</summary>
    protected abstract Task<TResult> RunAsync(TPayload payload, JobRun job, CancellationToken cancellationToken);
}
