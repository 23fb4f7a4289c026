using System.Collections.Concurrent;
using Cronos;

namespace JobWorker.Jobs;

/// <summary>
/// Cron expressions and time zones through Cronos: five fields, or six with seconds first. Occurrences are computed in
/// the schedule's zone, so daylight-saving transitions follow Cronos's rules (a time skipped by spring-forward fires at
/// the transition; an hour repeated by fall-back fires once, except for expressions that run every hour or more often).
/// </summary>
internal static class RecurringCron
{
    private static readonly ConcurrentDictionary<string, CronExpression> Parsed = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, TimeZoneInfo> Zones = new(StringComparer.Ordinal);

    /// <summary>Spans searched back, shortest first, for the latest occurrence before a time: each bounds the work for the next.</summary>
    private static readonly TimeSpan[] LatestSpans =
    [
        TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(2), TimeSpan.FromHours(2), TimeSpan.FromDays(2), TimeSpan.FromDays(62),
        TimeSpan.FromDays(732), TimeSpan.FromDays(3660),
    ];

    /// <summary>The parsed expression; throws <see cref="CronFormatException"/> with Cronos's reason when it is not valid.</summary>
    public static CronExpression Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        return Parsed.GetOrAdd(expression.Trim(), static e =>
            CronExpression.Parse(e, e.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard));
    }

    /// <summary>The zone of an IANA (or Windows) id; throws <see cref="TimeZoneNotFoundException"/> when unknown.</summary>
    public static TimeZoneInfo Zone(string id) =>
        Zones.GetOrAdd(id.Trim(), static id => id == "UTC" ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id));

    /// <summary>Why <paramref name="expression"/> is not a valid cron expression, or null when it is.</summary>
    public static string? Problem(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            return "is required (five fields, or six with seconds first, e.g. '0 */5 * * * *')";
        }

        try
        {
            // Cronos searches a few centuries ahead; an expression with no date at all (30 February) would be stored with
            // no next run and never fire, so it is refused here with the other mistakes.
            return Parse(expression).GetNextOccurrence(DateTime.UtcNow) is null
                ? $"'{expression}' never occurs (no date matches every field)"
                : null;
        }
        catch (CronFormatException e)
        {
            return $"'{expression}' is not a valid cron expression: {e.Message}";
        }
    }

    /// <summary>Why <paramref name="zone"/> is not a known time zone, or null when it is.</summary>
    public static string? ZoneProblem(string? zone)
    {
        if (string.IsNullOrWhiteSpace(zone))
        {
            return "is required (an IANA id such as 'UTC' or 'Europe/Berlin')";
        }

        try
        {
            Zone(zone);
            return null;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return $"'{zone}' is not a known time zone (use an IANA id such as 'UTC' or 'Europe/Berlin')";
        }
    }

    /// <summary>The first occurrence after <paramref name="afterUtc"/> (or at it, when <paramref name="inclusive"/>); null when there is none.</summary>
    public static DateTime? Next(CronExpression cron, TimeZoneInfo zone, DateTime afterUtc, bool inclusive = false) =>
        cron.GetNextOccurrence(DateTime.SpecifyKind(afterUtc, DateTimeKind.Utc), zone, inclusive);

    /// <summary>Occurrences from <paramref name="fromUtc"/> to <paramref name="toUtc"/>, both inclusive, oldest first, at most <paramref name="limit"/>.</summary>
    public static List<DateTime> Between(CronExpression cron, TimeZoneInfo zone, DateTime fromUtc, DateTime toUtc, int limit)
    {
        var found = new List<DateTime>();
        for (var at = Next(cron, zone, fromUtc, inclusive: true); at is { } a && a <= toUtc && found.Count < limit; at = Next(cron, zone, a))
        {
            found.Add(a);
        }

        return found;
    }

    /// <summary>The latest occurrence from <paramref name="fromUtc"/> to <paramref name="toUtc"/> (both inclusive); null when there is none.</summary>
    public static DateTime? Latest(CronExpression cron, TimeZoneInfo zone, DateTime fromUtc, DateTime toUtc)
    {
        foreach (var span in LatestSpans)
        {
            var start = toUtc - span > fromUtc ? toUtc - span : fromUtc;
            DateTime? latest = null;
            for (var at = Next(cron, zone, start, inclusive: true); at is { } a && a <= toUtc; at = Next(cron, zone, a))
            {
                latest = a;
            }

            if (latest is not null || start == fromUtc)
            {
                return latest;
            }
        }

        return null;
    }
}
