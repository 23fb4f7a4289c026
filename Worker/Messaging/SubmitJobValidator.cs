using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Messaging;

/// <summary>Translates a SubmitJob into the job the ledger accepts, and says what is wrong with the message itself.</summary>
internal static class SubmitJobValidator
{
    /// <summary>
    /// Returns the reason the message can never run, or null when it is fine. <paramref name="storedPayload"/> is the
    /// payload's JSON text to store, compact, rendered once here: JSON null for a rejected job, whose payload may be the very
    /// thing that is wrong. The per-job limits (attempts, timeout, schedule) are the job lifecycle's: see <see cref="JobLimits"/>.
    /// </summary>
    public static string? Validate(SubmitJob message, SubmissionOptions options, out string storedPayload)
    {
        storedPayload = "null";
        if (string.IsNullOrWhiteSpace(message.JobType))
        {
            return "JobType is missing or empty.";
        }

        if (message.JobType.Length > JobSchema.MaxTypeLength)
        {
            return $"JobType is longer than {JobSchema.MaxTypeLength} characters.";
        }

        if (message.JobType.Any(char.IsControl))
        {
            return "JobType contains a control character.";
        }

        if (After(message) is { } afterProblem)
        {
            return afterProblem;
        }

        if (message.ConcurrencyKey is { } key && (key.Length > JobSchema.MaxConcurrencyKeyLength || key.Contains('\0')))
        {
            return $"ConcurrencyKey must be at most {JobSchema.MaxConcurrencyKeyLength} characters, with no NUL character.";
        }

        string payload;
        try
        {
            payload = Compact(Payload(message));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The JSON parsed, but a string inside the payload holds bytes that are not UTF-8.
            return $"Payload is not valid UTF-8 JSON text: {e.InnerException?.Message ?? e.Message}";
        }

        var payloadBytes = Encoding.UTF8.GetByteCount(payload);
        if (payloadBytes > options.MaxPayloadBytes)
        {
            return $"Payload is {payloadBytes} bytes; the limit (Submissions:MaxPayloadBytes) is {options.MaxPayloadBytes}.";
        }

        if (payload.Contains("\\u0000", StringComparison.OrdinalIgnoreCase))
        {
            return "Payload contains a NUL character (\\u0000), which PostgreSQL's jsonb cannot store.";
        }

        storedPayload = payload;
        return null;
    }

    /// <summary>What is wrong with the message's continuation fields (<c>After</c>, <c>AfterAny</c>), or null.</summary>
    private static string? After(SubmitJob message)
    {
        if (message.After is not { Count: > 0 } after)
        {
            return message.AfterAny ? "AfterAny is set, but After lists no parent job." : null;
        }

        // Counted as sent, before any set of the ids is built: a message of a million copies of one id costs nothing more.
        if (after.Count > JobLimits.MaxParents)
        {
            return $"After lists {after.Count} parent jobs; the limit is {JobLimits.MaxParents}.";
        }

        if (after.Contains(Guid.Empty))
        {
            return "After contains an empty job id (00000000-0000-0000-0000-000000000000).";
        }

        if (after.Contains(message.JobId))
        {
            return $"After names the job itself ({message.JobId}); a job cannot wait for itself.";
        }

        if (message.RunAt is not null || message.Delay is not null)
        {
            return "Give After or RunAt/Delay, not both: a continuation is due as soon as its parents finish.";
        }

        return null;
    }

    /// <summary>
    /// The payload as it is stored and measured against the limit: without the whitespace a publisher's serializer may
    /// add (MassTransit writes indented JSON), and with non-ASCII text kept as it is rather than escaped.
    /// </summary>
    private static string Compact(JsonElement payload)
    {
        // The raw text is read first: it is what refuses bytes that are not UTF-8, naming them.
        var raw = payload.GetRawText();
        if (payload.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array) || !raw.Contains('\n'))
        {
            return raw;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true }))
        {
            payload.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The payload a handler sees: JSON null when the message had none.</summary>
    public static JsonElement Payload(SubmitJob message) =>
        message.Payload is { ValueKind: not JsonValueKind.Undefined } payload ? payload : JsonNull;

    private static readonly JsonElement JsonNull = JsonSerializer.SerializeToElement<object?>(null);

    /// <summary>What the accept transition stores, with the payload text <see cref="Validate"/> gave.</summary>
    public static NewJob ToNewJob(SubmitJob message, SubmissionOptions submissions, string queue, string storedPayload) => new(
        message.JobId,
        string.IsNullOrWhiteSpace(message.JobType) ? "(none)" : StoredText.Clean(Truncate(message.JobType, JobSchema.MaxTypeLength))!,
        storedPayload,
        message.MaxAttempts ?? submissions.DefaultMaxAttempts,
        message.Timeout,
        message.CorrelationId,
        message.RunAt is { } runAt ? AsUtc(runAt) : null,
        message.Delay,
        queue,
        message.After is { Count: > 0 } after ? [.. after.Distinct()] : null,
        message.AfterAny,
        message.Priority,
        ConcurrencyKey: message.ConcurrencyKey is { } key ? StoredText.Clean(Truncate(key, JobSchema.MaxConcurrencyKeyLength)) : null);

    private static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static string Truncate(string value, int length) =>
        value.Length <= length ? value : value[..length];
}
