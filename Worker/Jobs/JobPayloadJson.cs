using System.Text.Json;
using System.Text.Json.Serialization;

namespace JobWorker.Jobs;

/// <summary>
/// How typed handlers (<see cref="JobHandler{TPayload}"/>, <see cref="JobHandler{TPayload, TResult}"/>) read payloads and
/// write results, and how a payload that does not bind becomes an <see cref="InvalidJobPayloadException"/> naming the field.
/// </summary>
internal static class JobPayloadJson
{
    /// <summary>
    /// System.Text.Json's web defaults (camelCase, names in any case), strict about what a field holds: no numbers from
    /// strings, no null for a member not declared nullable, and every constructor parameter without a default required.
    /// A publisher's mistake then fails the job at once, naming the field, instead of running it on a zero or a null.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>The job's payload as <typeparamref name="TPayload"/>; throws <see cref="InvalidJobPayloadException"/> when it does not bind.</summary>
    public static TPayload Bind<TPayload>(JobRun job, JsonSerializerOptions options)
    {
        // Options of a handler's own are made read-only with the reflection resolver filled in, as the first
        // deserialisation would make them; then the payload type's contract can be read to describe an error.
        if (!options.IsReadOnly)
        {
            options.MakeReadOnly(populateMissingResolver: true);
        }

        TPayload? payload;
        try
        {
            payload = job.Payload.Deserialize<TPayload>(options);
        }
        catch (JsonException e)
        {
            throw JsonBindingProblem.Of(e, job.Payload, options.GetTypeInfo(typeof(TPayload))) is { } problem
                ? Invalid(job.JobType, problem)
                : new InvalidJobPayloadException($"{job.JobType}: payload does not bind to {typeof(TPayload).Name}: {e.Message}");
        }

        // A JSON null (or no payload) reads as null for any class, whatever its annotations; only a nullable value type
        // (int?) declares that it takes one.
        if (payload is null && Nullable.GetUnderlyingType(typeof(TPayload)) is null)
        {
            throw Invalid(job.JobType, JsonBindingProblem.Of(new JsonException(null, "$", null, null), job.Payload, options.GetTypeInfo(typeof(TPayload)))
                ?? new JsonBindingProblem("$", "a value", "null"));
        }

        return payload!;
    }

    /// <summary>The handler's result as the job's stored result.</summary>
    public static JsonElement? Result<TResult>(TResult result, JsonSerializerOptions options) =>
        result is null ? null : JsonSerializer.SerializeToElement(result, options);

    private static InvalidJobPayloadException Invalid(string jobType, JsonBindingProblem problem) =>
        new(problem.Path == "$"
            ? $"{jobType}: payload: expected {problem.Expected}, got {problem.Got}"
            : $"{jobType}: payload field {problem.Path}: expected {problem.Expected}, got {problem.Got}");
}
