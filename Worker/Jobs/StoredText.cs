using System.Globalization;

namespace JobWorker.Jobs;

/// <summary>
/// Makes text safe for PostgreSQL, so that an error, reason or result never fails the transition that records it.
/// PostgreSQL stores no NUL (U+0000) in text (22021) nor a <c>\u0000</c> escape in jsonb (22P05); jsonb refuses an
/// unpaired surrogate escape such as <c>"\ud83d"</c> (22P02); and Npgsql cannot encode a .NET string holding an unpaired
/// surrogate (its UTF-8 encoder throws). Each of these becomes U+FFFD; surrogate pairs stay.
/// </summary>
internal static class StoredText
{
    private const char Replacement = '\uFFFD';

    /// <summary>The text with every NUL and every unpaired surrogate replaced by U+FFFD; the same instance when it has none.</summary>
    public static string? Clean(string? text)
    {
        if (text is null || FirstSuspect(text) is not (>= 0 and var first))
        {
            return text;
        }

        char[]? copy = null;
        for (var i = first; i < text.Length; i++)
        {
            if (IsPairAt(text, i))
            {
                i++;
            }
            else if (text[i] == '\0' || char.IsSurrogate(text[i]))
            {
                (copy ??= text.ToCharArray())[i] = Replacement;
            }
        }

        return copy is null ? text : new string(copy);
    }

    /// <summary>
    /// JSON text whose strings and property names hold no NUL and no unpaired surrogate, neither raw nor as a
    /// <c>\u</c> escape: each becomes U+FFFD (an escape becomes the escape <c>\uFFFD</c>), and the rest of the text
    /// stays as it was. The same instance when there is nothing to replace. A number outside PostgreSQL's numeric range
    /// (e.g. <c>1e1000000</c>) or a document nested thousands deep is left as it is: jsonb still refuses those.
    /// </summary>
    public static string? CleanJson(string? json)
    {
        // Most results have none of these; a few vectorized searches spare them the character-by-character pass.
        if (json is null
            || (FirstSuspect(json) < 0
                && !json.Contains(@"\u0000", StringComparison.Ordinal)
                && !json.Contains(@"\ud", StringComparison.OrdinalIgnoreCase)))
        {
            return json;
        }

        char[]? copy = null;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (c == '\\' && i + 1 < json.Length)
            {
                // Escapes stay within strings in any valid JSON; stepping over each one whole keeps "\\u0000" (an
                // escaped backslash followed by "u0000") out of reach.
                if (json[i + 1] != 'u' || JobSubmission.EscapedUnit(json, i) is not { } unit)
                {
                    i++;
                    continue;
                }

                if (char.IsHighSurrogate(unit) && JobSubmission.EscapedUnit(json, i + 6) is { } next && char.IsLowSurrogate(next))
                {
                    i += 11;
                    continue;
                }

                if (unit == '\0' || char.IsSurrogate(unit))
                {
                    "uFFFD".CopyTo((copy ??= json.ToCharArray()).AsSpan(i + 1));
                }

                i += 5;
            }
            else if (IsPairAt(json, i))
            {
                i++;
            }
            else if (c == '\0' || char.IsSurrogate(c))
            {
                (copy ??= json.ToCharArray())[i] = Replacement;
            }
        }

        return copy is null ? json : new string(copy);
    }

    /// <summary>Where the first NUL or surrogate is (paired or not), or -1.</summary>
    private static int FirstSuspect(ReadOnlySpan<char> text)
    {
        var nul = text.IndexOf('\0');
        var surrogate = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        return nul < 0 ? surrogate : surrogate < 0 ? nul : Math.Min(nul, surrogate);
    }

    private static bool IsPairAt(string text, int i) =>
        char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
}
