using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using JobWorker.Contracts;
using MassTransit;

namespace JobWorker.Client;

/// <summary>
/// One submission checked and rendered once: the SubmitJob to send and the payload text to store. The checks are the
/// worker's own (its accept rejects the same things), made here so a caller hears of a mistake at once, with an
/// <see cref="ArgumentException"/> naming the option, and a job written in a transaction is never one a worker would refuse.
/// </summary>
internal sealed record JobSubmission(SubmitJob Message, string PayloadJson)
{
    // The worker's JobLimits and JobSchema are defined from these: the two sides cannot drift.
    public const int MinAttempts = 1;
    public const int MaxAttempts = 100;
    public const int MaxParents = 1000;
    public const int MaxTypeLength = 100;
    public const int MaxConcurrencyKeyLength = 200;

    /// <summary>Web defaults (camelCase), and non-ASCII text kept as it is, as the worker stores a payload.</summary>
    private static readonly JsonSerializerOptions PayloadJsonOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JobSubmission Create(string jobType, object? payload, JobSubmitOptions? options, int maxPayloadBytes)
    {
        options ??= new JobSubmitOptions();
        ArgumentException.ThrowIfNullOrWhiteSpace(jobType);
        if (jobType.Length > MaxTypeLength || jobType.Any(char.IsControl))
        {
            throw new ArgumentException($"The job type must be at most {MaxTypeLength} characters, with no control character.", nameof(jobType));
        }

        Check(options.MaxAttempts is null or (>= MinAttempts and <= MaxAttempts), nameof(options.MaxAttempts), $"must be between {MinAttempts} and {MaxAttempts}");
        Check(options.Timeout is null || options.Timeout > TimeSpan.Zero, nameof(options.Timeout), "must be positive");
        Check(options.RunAt is null || options.Delay is null, nameof(options.RunAt), "give RunAt or Delay, not both");
        Check(options.Delay is null || options.Delay >= TimeSpan.Zero, nameof(options.Delay), "must not be negative");
        Check(options.Priority is >= 0 and <= JobsQueue.MaxPriority, nameof(options.Priority), $"must be between 0 and {JobsQueue.MaxPriority}");
        Check(options.ConcurrencyKey is null || (options.ConcurrencyKey.Length <= MaxConcurrencyKeyLength && !options.ConcurrencyKey.Contains('\0')),
            nameof(options.ConcurrencyKey), $"must be at most {MaxConcurrencyKeyLength} characters, with no NUL character");
        var jobId = options.JobId ?? NewId.NextGuid();
        Check(options.JobId != Guid.Empty, nameof(options.JobId), "must not be the empty id");
        var after = options.After is { Count: > 0 } parents ? parents.Distinct().ToArray() : null;
        Check(!options.AfterAny || after is not null, nameof(options.AfterAny), "needs at least one parent in After");
        if (after is not null)
        {
            Check(options.After!.Count <= MaxParents, nameof(options.After), $"lists {options.After.Count} parent jobs; the limit is {MaxParents}");
            Check(!after.Contains(Guid.Empty), nameof(options.After), "contains the empty id");
            Check(!after.Contains(jobId), nameof(options.After), "names the job itself; a job cannot wait for itself");
            Check(options.RunAt is null && options.Delay is null, nameof(options.After), "give After or RunAt/Delay, not both: a continuation is due as soon as its parents finish");
        }

        string payloadJson;
        try
        {
            payloadJson = Render(payload);
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or NotSupportedException)
        {
            // Writing JSON unescapes each string: one holding an unpaired surrogate escape ("\ud83d" alone) cannot be
            // written (InvalidOperationException), nor can a cycle or an unsupported type.
            throw new ArgumentException($"The payload cannot be written as JSON: {e.Message}", nameof(payload), e);
        }

        var bytes = Encoding.UTF8.GetByteCount(payloadJson);
        if (bytes > maxPayloadBytes)
        {
            throw new ArgumentException($"The payload is {bytes} bytes; the limit (JobClient:MaxPayloadBytes) is {maxPayloadBytes}.", nameof(payload));
        }

        if (UnstorableEscape(payloadJson) is { } escape)
        {
            throw new ArgumentException(
                $"The payload contains {escape}, which PostgreSQL's jsonb cannot store (a transaction that tried would be aborted).", nameof(payload));
        }

        var message = new SubmitJob
        {
            JobId = jobId,
            JobType = jobType,
            Payload = JsonSerializer.Deserialize<JsonElement>(payloadJson),
            MaxAttempts = options.MaxAttempts,
            Timeout = options.Timeout,
            RunAt = options.RunAt?.UtcDateTime,
            Delay = options.Delay,
            After = after,
            AfterAny = options.AfterAny,
            CorrelationId = options.CorrelationId,
            Priority = options.Priority,
            ConcurrencyKey = options.ConcurrencyKey,
        };
        return new JobSubmission(message, payloadJson);
    }

    /// <summary>The payload as compact JSON text: a <see cref="JsonElement"/> as it is, anything else serialised (null is JSON null).</summary>
    private static string Render(object? payload)
    {
        if (payload is not JsonElement element)
        {
            return JsonSerializer.Serialize(payload, payload?.GetType() ?? typeof(object), PayloadJsonOptions);
        }

        if (element.ValueKind == JsonValueKind.Undefined)
        {
            return "null";
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// What in the JSON text jsonb refuses, or null: a NUL (<c>\u0000</c>) or an unpaired surrogate escape (<c>\ud83d</c>
    /// alone), as the worker's store checks. Raw unpaired surrogates cannot be here: rendering to UTF-8 replaced them.
    /// </summary>
    private static string? UnstorableEscape(string json)
    {
        if (!json.Contains("\\u", StringComparison.Ordinal))
        {
            return null;
        }

        for (var i = 0; i < json.Length - 1; i++)
        {
            if (json[i] != '\\')
            {
                continue;
            }

            // Stepping over each escape whole keeps "\\u0000" (an escaped backslash, then "u0000") out of reach.
            if (EscapedUnit(json, i) is not { } unit)
            {
                i++;
                continue;
            }

            if (char.IsHighSurrogate(unit) && EscapedUnit(json, i + 6) is { } next && char.IsLowSurrogate(next))
            {
                i += 11;
                continue;
            }

            if (unit == '\0')
            {
                return "a NUL character (\\u0000)";
            }

            if (char.IsSurrogate(unit))
            {
                return $"an unpaired surrogate escape ({json.AsSpan(i, 6)})";
            }

            i += 5;
        }

        return null;
    }

    /// <summary>The UTF-16 unit of the <c>\uXXXX</c> escape at <paramref name="i"/>, or null when there is none.</summary>
    internal static char? EscapedUnit(string json, int i) =>
        i + 6 <= json.Length && json[i] == '\\' && json[i + 1] == 'u'
        && ushort.TryParse(json.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit)
            ? (char)unit
            : null;

    private static void Check(bool ok, string option, string problem)
    {
        if (!ok)
        {
            throw new ArgumentException($"JobSubmitOptions.{option} {problem}.", option);
        }
    }
}
