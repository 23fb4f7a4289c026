using System.Globalization;
using System.Text.RegularExpressions;

namespace JobWorker.Jobs;

/// <summary>A rate limit, <c>N/interval</c>: at most <see cref="Count"/> starts of a type in any window of <see cref="Interval"/>.</summary>
internal readonly partial record struct LimitRate(int Count, TimeSpan Interval)
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(1);

    /// <summary>Reads <c>100/1m</c>, <c>10/1s</c>, <c>5/00:00:30</c>…; returns why <paramref name="text"/> is not a rate, or null.</summary>
    public static string? TryParse(string? text, out LimitRate rate)
    {
        rate = default;
        var slash = text?.IndexOf('/') ?? -1;
        if (text is null || slash < 0)
        {
            return $"'{text}' is not a rate: write N/interval, e.g. 100/1m or 10/1s";
        }

        if (!int.TryParse(text.AsSpan(0, slash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            return $"'{text}': the count before '/' must be a whole number of at least 1";
        }

        if (ParseInterval(text[(slash + 1)..].Trim()) is not { } interval)
        {
            return $"'{text}': the interval after '/' must be like 1s, 30s, 1m, 1h, 1d or 00:01:00";
        }

        if (interval < MinInterval || interval > MaxInterval)
        {
            return $"'{text}': the interval must be between 1 s and 1 day";
        }

        rate = new LimitRate(count, interval);
        return null;
    }

    private static TimeSpan? ParseInterval(string text)
    {
        if (ShortInterval().Match(text) is { Success: true } match)
        {
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.FromDays(value),
            };
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;
    }

    public override string ToString() => $"{Count}/{Describe(Interval)}";

    private static string Describe(TimeSpan interval) =>
        interval.TotalDays % 1 == 0 ? $"{interval.TotalDays}d"
        : interval.TotalHours % 1 == 0 ? $"{interval.TotalHours}h"
        : interval.TotalMinutes % 1 == 0 ? $"{interval.TotalMinutes}m"
        : interval.TotalSeconds % 1 == 0 ? $"{interval.TotalSeconds}s"
        : interval.ToString("c", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$")]
    private static partial Regex ShortInterval();
}
