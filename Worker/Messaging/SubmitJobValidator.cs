using System.Text;
using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Messaging;

/// <summary>Checks a SubmitJob before it is stored. Returns the reason it is rejected, or null when it is fine.</summary>
public static class SubmitJobValidator
{
    public static string? Validate(SubmitJob message, JobOptions options)
    {
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
            payload = PayloadJson(message);
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

        return null;
    }

    /// <summary>The payload a handler sees: JSON null when the message had none.</summary>
    public static JsonElement Payload(SubmitJob message) =>
        message.Payload is { ValueKind: not JsonValueKind.Undefined } payload ? payload : JsonNull;

    /// <summary>The payload as stored: its JSON text.</summary>
    public static string PayloadJson(SubmitJob message) => Payload(message).GetRawText();

    private static readonly JsonElement JsonNull = JsonSerializer.SerializeToElement<object?>(null);

    /// <summary>What the accept transition stores. A rejected job keeps no payload: it may be the very thing that is wrong.</summary>
    public static NewJob ToNewJob(SubmitJob message, JobOptions options, bool rejected) => new(
        message.JobId,
        string.IsNullOrWhiteSpace(message.JobType) ? "(none)" : Truncate(message.JobType, JobSchema.MaxTypeLength),
        rejected ? "null" : PayloadJson(message),
        message.MaxAttempts is >= 1 and <= 100 ? message.MaxAttempts.Value : options.DefaultMaxAttempts,
        message.Timeout is { } t && t > TimeSpan.Zero ? t : null,
        message.CorrelationId);

    private static string Truncate(string value, int length) =>
        value.Length <= length ? value : value[..length];
}
