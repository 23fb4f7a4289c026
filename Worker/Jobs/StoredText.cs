using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobWorker.Jobs;

/// <summary>
/// Makes text safe for PostgreSQL, which stores no NUL character (U+0000) in text (22021) nor a <c>\u0000</c>
/// escape in jsonb (22P05): an error, reason or result holding one must never fail the transition that records it.
/// </summary>
internal static class StoredText
{
    private const char Replacement = '\uFFFD';

    /// <summary>The text with every NUL replaced by U+FFFD.</summary>
    public static string? Clean(string? text) =>
        text is null || !text.Contains('\0') ? text : text.Replace('\0', Replacement);

    /// <summary>JSON text whose strings (and property names) hold no NUL; unchanged when it has none.</summary>
    public static string? CleanJson(string? json)
    {
        if (json is null || !json.Contains("\\u0000", StringComparison.OrdinalIgnoreCase))
        {
            return json;
        }

        var node = JsonNode.Parse(json);
        return node is null ? json : Rewrite(node)?.ToJsonString() ?? "null";
    }

    private static JsonNode? Rewrite(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(Clean(p.Key)!, Rewrite(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Rewrite)]),
        JsonValue value when value.GetValueKind() == JsonValueKind.String => JsonValue.Create(Clean(value.GetValue<string>())),
        _ => node?.DeepClone(),
    };
}
