using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace JobWorker.Messaging;

/// <summary>
/// Reads the job id of a SubmitJob body that could not be deserialized: malformed JSON, strings holding bytes that are
/// not UTF-8, a body cut short. It takes a string <c>jobId</c> (any case) only from the object that is the message: the
/// top-level object of a raw JSON body, or the top-level <c>message</c> object of a MassTransit envelope. A <c>jobId</c>
/// in a payload, a header or a string names some other job and is never taken. The walk stops at the first structural
/// error, since what follows it cannot be placed with certainty; two different ids yield none.
/// </summary>
internal static class BodyJobIdScanner
{
    // As MassTransit reads bodies: comments and trailing commas pass; deeper than 64 levels does not.
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The job id of <paramref name="body"/>, from its top level or, in an envelope, from its message; null when there is none.</summary>
    public static Guid? Find(ReadOnlySpan<byte> body, bool envelope)
    {
        // Utf8JsonReader checks structure, not the UTF-8 inside strings (that fails later, in GetString), so it walks
        // past the bytes that made many of these bodies unreadable.
        var reader = new Utf8JsonReader(body.StartsWith("\uFEFF"u8) ? body[3..] : body, Options);
        var inMessage = !envelope;
        var namesAt = envelope ? 2 : 1;
        Guid? found = null;
        var conflict = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && inMessage && reader.CurrentDepth == namesAt && NameIs(ref reader, "jobId"u8))
                {
                    if (reader.Read() && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && ParseId(reader.ValueSpan) is { } id)
                    {
                        conflict |= found is { } earlier && earlier != id;
                        found ??= id;
                    }
                }
                else if (reader.TokenType == JsonTokenType.PropertyName && envelope && reader.CurrentDepth == 1 && NameIs(ref reader, "message"u8))
                {
                    inMessage = reader.Read() && reader.TokenType == JsonTokenType.StartObject;
                }
                else if (reader.TokenType == JsonTokenType.EndObject && envelope && reader.CurrentDepth == 1)
                {
                    inMessage = false;
                }
            }
        }
        catch (JsonException)
        {
            // The body breaks here; the ids read before this point stand.
        }

        return conflict ? null : found;
    }

    private static bool NameIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> name) =>
        !reader.ValueIsEscaped && Ascii.EqualsIgnoreCase(reader.ValueSpan, name);

    /// <summary>A GUID with or without hyphens, never the empty one.</summary>
    private static Guid? ParseId(ReadOnlySpan<byte> text) =>
        ((Utf8Parser.TryParse(text, out Guid id, out var used, 'D') && used == text.Length)
         || (Utf8Parser.TryParse(text, out id, out used, 'N') && used == text.Length))
        && id != Guid.Empty
            ? id
            : null;
}
