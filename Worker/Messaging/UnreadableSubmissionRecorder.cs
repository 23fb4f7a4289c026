using System.Net.Mime;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Resilience;
using MassTransit;
using MassTransit.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// A body that cannot be deserialized (malformed JSON, invalid UTF-8, not an object) never reaches the consumer;
/// MassTransit moves it to the error queue. This observer makes that visible: it logs one line naming the problem,
/// and when a job id can still be read from the raw bytes, it records that job as Failed with the reason.
/// </summary>
internal sealed partial class UnreadableSubmissionRecorder(
    JobStore store, IOptions<JobOptions> options, ILogger<UnreadableSubmissionRecorder> logger) : IReceiveObserver
{
    /// <summary>SubmitJob's fields as a publisher writes them (camelCase), to say what a field must hold.</summary>
    private static readonly JsonTypeInfo SubmitJobContract = Contract();

    public async Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        if (QueueNames.Of(context.InputAddress) != QueueNames.Jobs(options.Value) || !IsUnreadable(exception))
        {
            return;
        }

        var head = Head(context.Body);
        var reason = $"Unreadable SubmitJob: {Describe(exception, head, context.ContentType)}";
        try
        {
            if (ReadJobId(head, context.ContentType) is { } jobId)
            {
                var recorded = await store.RejectUnreadableAsync(jobId, reason, options.Value.QueueName, context.CancellationToken);
                LogUnreadable(logger, context.TransportHeaders.Get<string>("MessageId") ?? "(without id)", reason,
                    recorded ? $"job {jobId} marked Failed" : $"job {jobId} was already further along and is left as it is");
            }
            else
            {
                LogUnreadable(logger, context.TransportHeaders.Get<string>("MessageId") ?? "(without id)", reason, "no job id could be read");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRecordFailed(logger, e, reason);
        }
    }

    /// <summary>
    /// Whether the fault is MassTransit failing to deserialize the body: its serializers throw SerializationException for
    /// a body that is not JSON, and a bare JsonException for JSON whose fields do not fit SubmitJob (a text attempt count).
    /// A receive also faults when its acknowledgement
    /// meets a channel the broker dropped (a cluster node lost mid-delivery, after the consumer ran): that message is
    /// redelivered, and its job must not be failed as unreadable.
    /// </summary>
    internal static bool IsUnreadable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Runtime.Serialization.SerializationException or JsonException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// What is wrong with the body, for the job's error. A field of the wrong type is named with what it must hold
    /// (<c>timeout: expected "hh:mm:ss", got a number</c>), read from the body and SubmitJob's contract; anything else
    /// (malformed JSON, bytes that are not UTF-8) in System.Text.Json's words, whose message names the place.
    /// </summary>
    internal static string Describe(Exception exception, ReadOnlySpan<byte> body, ContentType? contentType)
    {
        var json = ExceptionChain.Find<JsonException>(exception);
        try
        {
            if (json is not null && Message(body, contentType) is { } message && JsonBindingProblem.Of(json, message, SubmitJobContract) is { } problem)
            {
                return $"{(problem.Field is "" ? "the message" : problem.Field)}: expected {problem.Expected}, got {problem.Got}";
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException or DecoderFallbackException)
        {
            // The description is a courtesy: a body it cannot read must still fail its job, with the parser's words.
        }

        // System.Text.Json's own message names the place ("Path: $.payload | LineNumber: 0"); what it wraps only says what it met.
        return (json ?? ExceptionChain.Innermost(exception)).Message;
    }

    /// <summary>The SubmitJob the body holds as JSON (the whole of a raw body, an envelope's <c>message</c>); null when the body does not parse.</summary>
    private static JsonElement? Message(ReadOnlySpan<byte> body, ContentType? contentType)
    {
        JsonElement parsed;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            parsed = JsonElement.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            // Malformed, or longer than the part read: the parser's own message says where.
            return null;
        }

        var envelope = contentType?.MediaType is { } type && IsType(type, SystemTextJsonMessageSerializer.JsonContentType);
        return !envelope ? parsed
            : parsed.ValueKind == JsonValueKind.Object && parsed.TryGetProperty("message", out var message) ? message
            : null;
    }

    private static JsonTypeInfo Contract()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.MakeReadOnly(populateMissingResolver: true);
        return options.GetTypeInfo(typeof(SubmitJob));
    }

    /// <summary>
    /// The id of the job the body submits, or null when none can be read. MassTransit picks the deserializer by content
    /// type: raw JSON for <c>application/json</c>, the envelope for its own type and by default. A body of another or no
    /// content type that holds no envelope message may still be a raw SubmitJob sent without the right type.
    /// </summary>
    internal static Guid? ReadJobId(ReadOnlySpan<byte> body, ContentType? contentType) => contentType?.MediaType switch
    {
        { } type when IsType(type, SystemTextJsonRawMessageSerializer.JsonContentType) => BodyJobIdScanner.Find(body, envelope: false),
        { } type when IsType(type, SystemTextJsonMessageSerializer.JsonContentType) => BodyJobIdScanner.Find(body, envelope: true),
        _ => BodyJobIdScanner.Find(body, envelope: true) ?? BodyJobIdScanner.Find(body, envelope: false),
    };

    private static bool IsType(string mediaType, ContentType contentType) =>
        string.Equals(mediaType, contentType.MediaType, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The body's first bytes: enough to find the job id, and to say which field is wrong in a body
    /// with a payload within the default Submissions:MaxPayloadBytes (1 MiB), without reading an oversized body whole.
    /// </summary>
    private static byte[] Head(MessageBody body)
    {
        var head = new byte[1024 * 1024];
        using var stream = body.GetStream();
        var read = 0;
        for (int n; read < head.Length && (n = stream.Read(head, read, head.Length - read)) > 0;)
        {
            read += n;
        }

        return head[..read];
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} moved to the error queue. {Reason}; {Outcome}")]
    private static partial void LogUnreadable(ILogger logger, string messageId, string reason, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record an unreadable submission ({Reason})")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string reason);
}
