using System.Text;
using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Messaging;

/// <summary>Checks a SubmitJob before it is stored.</summary>
public static class SubmitJobValidator
{
    /// <summary>
    /// Returns the reason the message is rejected, or null when it is fine. <paramref name="storedPayload"/> is the
    /// payload's JSON text to store, rendered once here: JSON null for a rejected job, whose payload may be the very
    /// thing that is wrong.
    /// </summary>
    public static string? Validate(SubmitJob message, JobOptions options, out string storedPayload)
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

        if (message.MaxAttempts is < 1 or > 100)
        {
            return $"MaxAttempts is {message.MaxAttempts}; it must be between 1 and 100.";
        }

        if (message.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            return $"Timeout is {timeout}; it must be positive.";
        }

        string payload;
        try
        {
            payload = Payload(message).GetRawText();
        }
        catch (InvalidOperationException e)
        {
            // The JSON parsed, but a string inside the payload holds bytes that are not UTF-8.
            return $"Payload is not valid UTF-8 JSON text: {e.InnerException?.Message ?? e.Message}";
        }

        var payloadBytes = Encoding.UTF8.GetByteCount(payload);
        if (payloadBytes > options.MaxPayloadBytes)
        {
            return $"Payload is {payloadBytes} bytes; the limit (Jobs:MaxPayloadBytes) is {options.MaxPayloadBytes}.";
        }

        storedPayload = payload;
        return null;
    }

    /// <summary>The payload a handler sees: JSON null when the message had none.</summary>
    public static JsonElement Payload(SubmitJob message) =>
        message.Payload is { ValueKind: not JsonValueKind.Undefined } payload ? payload : JsonNull;

    private static readonly JsonElement JsonNull = JsonSerializer.SerializeToElement<object?>(null);

    /// <summary>What the accept transition stores, with the payload text <see cref="Validate"/> gave.</summary>
    public static NewJob ToNewJob(SubmitJob message, JobOptions options, string storedPayload) => new(
        message.JobId,
        string.IsNullOrWhiteSpace(message.JobType) ? "(none)" : Truncate(message.JobType, JobSchema.MaxTypeLength),
        storedPayload,
        message.MaxAttempts is >= 1 and <= 100 ? message.MaxAttempts.Value : options.DefaultMaxAttempts,
        message.Timeout is { } t && t > TimeSpan.Zero ? t : null,
        message.CorrelationId);

    private static string Truncate(string value, int length) =>
        value.Length <= length ? value : value[..length];
}
