using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace JobWorker.Jobs;

/// <summary>
/// Why JSON did not bind to a type, in words a publisher can act on: the field (<see cref="Path"/>), what it should hold
/// and what it held, e.g. <c>$.timeout: expected "hh:mm:ss", got a number</c>. Built from the <see cref="JsonException"/>
/// System.Text.Json threw, the JSON it read and the type's contract, so no parser jargon ("Cannot get the value of a token
/// type") reaches a job's error. Shared by typed handlers (payloads) and the SubmitJob intake (plain-JSON messages).
/// </summary>
/// <param name="Path">The field, as System.Text.Json writes it: <c>$</c> for the whole value, <c>$.days</c>, <c>$.after[0]</c>.</param>
/// <param name="Expected">What the field must hold, e.g. <c>a number</c>.</param>
/// <param name="Got">What it held, e.g. <c>a string</c>, <c>1.5</c>, or <c>nothing (the field is missing)</c>.</param>
internal sealed record JsonBindingProblem(string Path, string Expected, string Got)
{
    private const int LongestLiteral = 40;

    /// <summary>The field without the root: <c>timeout</c>, <c>after[0]</c>; empty for the whole value.</summary>
    public string Field => Path is "$" ? "" : Path.StartsWith("$.", StringComparison.Ordinal) ? Path[2..] : Path[1..];

    public override string ToString() => $"{Path}: expected {Expected}, got {Got}";

    /// <summary>
    /// Describes <paramref name="exception"/>, thrown while <paramref name="json"/> was read as <paramref name="target"/>:
    /// a field of the wrong kind or form, or a required member missing; null when it is neither.
    /// </summary>
    public static JsonBindingProblem? Of(JsonException exception, JsonElement json, JsonTypeInfo target)
    {
        var path = string.IsNullOrEmpty(exception.Path) ? "$" : exception.Path;
        var segments = Segments(path);
        var nodes = new List<(string Path, JsonElement? Json, JsonTypeInfo? Type)> { ("$", json, target) };
        foreach (var segment in segments)
        {
            var (at, node, type) = nodes[^1];
            nodes.Add((at + segment.Text, Child(node, segment), Child(type, segment)));
        }

        var (leafPath, leaf, leafType) = nodes[^1];
        if (leafType is not null && (leaf is null || !Fits(leaf.Value, leafType)))
        {
            return new JsonBindingProblem(leafPath, ExpectedOf(leafType, leaf), GotOf(leaf, leafType));
        }

        // The value where it stopped has the right shape: an object around it lacks a member it requires (the parser
        // names the object, or the member it read last).
        for (var i = nodes.Count - 1; i >= 0; i--)
        {
            if (nodes[i] is (var at, { ValueKind: JsonValueKind.Object } node, { Kind: JsonTypeInfoKind.Object } type)
                && MissingRequired(node, type) is { } missing)
            {
                var memberType = type.Options.GetTypeInfo(missing.PropertyType);
                return new JsonBindingProblem(Join(at, missing.Name), ExpectedOf(memberType, null), GotOf(null, memberType));
            }
        }

        // A value of the right kind in the wrong form or range ("soon" for a TimeSpan, 1.5 for an int).
        if (leafType is not null && ShapeOf(leafType) != Shape.Any
            && leaf?.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
        {
            return new JsonBindingProblem(leafPath, ExpectedOf(leafType, leaf), GotOf(leaf, leafType));
        }

        // The path leads where the contract does not reach, or to a value its type takes: the parser stopped for another
        // reason (too deep, a converter of the type's own), which only its message says.
        return null;
    }

    /// <summary>System.Text.Json's path, split: <c>.name</c>, <c>['odd name']</c>, <c>[3]</c>.</summary>
    private static List<(string Text, string? Name, int Index)> Segments(string path)
    {
        var segments = new List<(string, string?, int)>();
        var i = path.StartsWith('$') ? 1 : 0;
        while (i < path.Length)
        {
            var start = i;
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                segments.Add((path[start..end], path[(i + 1)..end], -1));
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? path.Length : end;
                segments.Add((path[start..Math.Min(path.Length, end + 2)], path[(i + 2)..end], -1));
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                end = end < 0 ? path.Length : end;
                segments.Add((path[start..Math.Min(path.Length, end + 1)], null,
                    int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1));
                i = end + 1;
            }
            else
            {
                break;
            }
        }

        return segments;
    }

    private static JsonElement? Child(JsonElement? node, (string Text, string? Name, int Index) segment)
    {
        if (node is not { } value)
        {
            return null;
        }

        if (segment.Name is { } name && value.ValueKind == JsonValueKind.Object)
        {
            return value.TryGetProperty(name, out var exact) ? exact
                : value.EnumerateObject().Where(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Select(p => (JsonElement?)p.Value).FirstOrDefault();
        }

        return segment.Name is null && value.ValueKind == JsonValueKind.Array && segment.Index >= 0 && segment.Index < value.GetArrayLength()
            ? value[segment.Index]
            : null;
    }

    private static JsonTypeInfo? Child(JsonTypeInfo? type, (string Text, string? Name, int Index) segment)
    {
        var child = type switch
        {
            { Kind: JsonTypeInfoKind.Object } when segment.Name is { } name => Property(type, name)?.PropertyType,
            { Kind: JsonTypeInfoKind.Dictionary } when segment.Name is not null => type.ElementType,
            { Kind: JsonTypeInfoKind.Enumerable } when segment.Name is null => type.ElementType,
            _ => null,
        };
        return child is null ? null : type!.Options.GetTypeInfo(child);
    }

    private static JsonPropertyInfo? Property(JsonTypeInfo type, string name) =>
        type.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal))
        ?? type.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The first member <paramref name="type"/> requires (<c>required</c>, [JsonRequired], or a constructor parameter without a default) that <paramref name="node"/> lacks.</summary>
    private static JsonPropertyInfo? MissingRequired(JsonElement node, JsonTypeInfo type) =>
        type.Properties.FirstOrDefault(p =>
            (p.IsRequired || (type.Options.RespectRequiredConstructorParameters && p.AssociatedParameter is { HasDefaultValue: false, IsMemberInitializer: false }))
            && Child(node, (p.Name, p.Name, -1)) is null);

    private static string Join(string path, string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? $"{path}.{name}" : $"{path}['{name}']";

    private enum Shape { Any, String, Number, Boolean, Object, Array }

    private static Shape ShapeOf(JsonTypeInfo type)
    {
        var clr = Nullable.GetUnderlyingType(type.Type) ?? type.Type;
        return clr switch
        {
            _ when clr == typeof(JsonElement) || clr == typeof(object) || typeof(JsonNode).IsAssignableFrom(clr) || clr == typeof(JsonDocument) => Shape.Any,
            _ when clr == typeof(bool) => Shape.Boolean,
            _ when IsInteger(clr) || clr == typeof(double) || clr == typeof(float) || clr == typeof(decimal) || clr == typeof(Half) => Shape.Number,
            _ when clr.IsEnum => StringEnums(type) ? Shape.String : Shape.Number,
            _ when type.Kind == JsonTypeInfoKind.Enumerable => Shape.Array,
            _ when type.Kind is JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => Shape.Object,
            _ => Shape.String,
        };
    }

    /// <summary>Whether the JSON value is of the kind the type reads (a number for a number): if so, its form or range was wrong.</summary>
    private static bool Fits(JsonElement value, JsonTypeInfo type) => (ShapeOf(type), value.ValueKind) switch
    {
        (Shape.Any, _) => true,
        (_, JsonValueKind.Null) => Nullable.GetUnderlyingType(type.Type) is not null,
        (Shape.String, JsonValueKind.String) or (Shape.Number, JsonValueKind.Number) => true,
        (Shape.Boolean, JsonValueKind.True or JsonValueKind.False) => true,
        (Shape.Object, JsonValueKind.Object) or (Shape.Array, JsonValueKind.Array) => true,
        _ => false,
    };

    private static string ExpectedOf(JsonTypeInfo type, JsonElement? got)
    {
        var clr = Nullable.GetUnderlyingType(type.Type) ?? type.Type;
        var sameKind = got is { } value && Fits(value, type) && value.ValueKind != JsonValueKind.Null;
        return clr switch
        {
            _ when ShapeOf(type) == Shape.Any => "any JSON value",
            _ when clr == typeof(bool) => "true or false",
            _ when IsInteger(clr) && sameKind => string.Create(CultureInfo.InvariantCulture,
                $"a whole number from {clr.GetField("MinValue")!.GetValue(null)} to {clr.GetField("MaxValue")!.GetValue(null)}"),
            _ when ShapeOf(type) == Shape.Number && !clr.IsEnum => "a number",
            _ when clr == typeof(string) => "a string",
            _ when clr == typeof(char) => "a one-character string",
            _ when clr == typeof(TimeSpan) || clr == typeof(TimeOnly) => "\"hh:mm:ss\"",
            _ when clr == typeof(DateTime) || clr == typeof(DateTimeOffset) => "a date and time such as \"2026-12-31T23:59:00Z\"",
            _ when clr == typeof(DateOnly) => "a date such as \"2026-12-31\"",
            _ when clr == typeof(Guid) => "a GUID such as \"0f8fad5b-d9cb-469f-a165-70867728950e\"",
            _ when clr == typeof(Uri) => "a URI string",
            _ when clr.IsEnum => StringEnums(type)
                ? "one of " + string.Join(", ", Enum.GetNames(clr).Select(n => $"\"{n}\""))
                : $"a number (a {clr.Name} value)",
            _ when type.Kind == JsonTypeInfoKind.Enumerable => "an array",
            _ when type.Kind is JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "an object",
            _ => $"a {clr.Name} value",
        };
    }

    private static string GotOf(JsonElement? got, JsonTypeInfo? type)
    {
        if (got is not { } value)
        {
            return "nothing (the field is missing)";
        }

        var sameKind = type is not null && Fits(value, type);
        return value.ValueKind switch
        {
            JsonValueKind.String when sameKind => Literal(value),
            JsonValueKind.String => "a string",
            JsonValueKind.Number when sameKind => Literal(value),
            JsonValueKind.Number => "a number",
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null => "null",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            _ => "nothing",
        };
    }

    /// <summary>
    /// The value as written, shortened. Read from its bytes with a replacing decoder: a string may hold bytes that are not
    /// UTF-8 (the reader does not check them), and <see cref="JsonElement.GetRawText"/> throws on those.
    /// </summary>
    private static string Literal(JsonElement value) => Literal(Encoding.UTF8.GetString(JsonMarshal.GetRawUtf8Value(value)));

    private static string Literal(string raw) =>
        raw.Length <= LongestLiteral ? raw : new StringBuilder(raw, 0, LongestLiteral - 1, LongestLiteral).Append('…').ToString();

    private static bool IsInteger(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)
        || type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(sbyte);

    /// <summary>Whether enums are read from their names: a string enum converter in the options or on the type.</summary>
    private static bool StringEnums(JsonTypeInfo type) =>
        type.Options.Converters.Any(c => c is JsonStringEnumConverter || (c.GetType().IsGenericType && c.GetType().GetGenericTypeDefinition() == typeof(JsonStringEnumConverter<>)))
        || (Nullable.GetUnderlyingType(type.Type) ?? type.Type).IsDefined(typeof(JsonConverterAttribute), inherit: false);
}
