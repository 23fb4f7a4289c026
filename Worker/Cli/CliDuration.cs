using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace JobWorker.Cli;

/// <summary>
/// The one way the command line reads a duration (90s, 10m, 2h, 1d or hh:mm:ss), so every duration option of every
/// command takes the same forms instead of only those TimeSpan's own parser knows.
/// </summary>
internal static class CliDuration
{
    /// <summary>What a duration looks like, for help and errors.</summary>
    public const string Forms = "90s, 10m, 2h, 1d or 00:10:00";

    /// <summary>An option read by <see cref="Parse"/>; a text it cannot read is a parse error naming the option.</summary>
    public static Option<TimeSpan> Option(string name, string description) =>
        new(name) { Description = description, CustomParser = result => Read(name, result) ?? TimeSpan.Zero };

    /// <summary>As <see cref="Option"/>, for an option whose absence means "the default of the worker".</summary>
    public static Option<TimeSpan?> OptionalOption(string name, string description) =>
        new(name) { Description = description, CustomParser = result => Read(name, result) };

    /// <summary>90s, 10m, 2h, 1d, or a TimeSpan such as 00:10:00; null when the text is none of these or negative.</summary>
    public static TimeSpan? Parse(string text)
    {
        text = text.Trim();
        if (text.Length >= 2 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            TimeSpan? unit = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => null,
            };
            if (unit is not null)
            {
                return unit;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero ? span : null;
    }

    private static TimeSpan? Read(string name, ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (Parse(text) is { } parsed)
        {
            return parsed;
        }

        result.AddError($"{name} '{text}' is not a duration such as {Forms}");
        return null;
    }
}
