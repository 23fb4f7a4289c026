using System.Globalization;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Primitives;

namespace JobWorker.Dashboard;

/// <summary>Reads a jobs filter from query or form fields; each value that cannot be read is a problem, named, and left out.</summary>
internal static class JobFilterForm
{
    /// <summary>The value of <c>sort</c> that lists Pending jobs due soonest first.</summary>
    public const string DueSort = "due";

    /// <summary>The longest text a filter field keeps.</summary>
    private const int MaxLength = 500;

    public static (JobFilter Filter, List<string> Problems) Read(Func<string, StringValues> field)
    {
        var problems = new List<string>();
        var filter = JobFilter.All;
        if (Value(field("state")) is { } state)
        {
            if (Enum.TryParse<JobState>(state, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
            {
                filter = filter with { State = parsed };
            }
            else
            {
                problems.Add($"State '{state}' is not one of {string.Join(", ", Enum.GetNames<JobState>())}.");
            }
        }

        filter = filter with { Type = Value(field("type")), ErrorContains = Value(field("error")), Owner = Value(field("owner")) };
        filter = filter with { CreatedFrom = Time(field("from"), "Created from"), CreatedTo = Time(field("to"), "Created before") };
        return (filter, problems);

        DateTime? Time(StringValues raw, string name)
        {
            if (Value(raw) is not { } text)
            {
                return null;
            }

            if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                return at;
            }

            problems.Add($"{name} '{text}' is not a date and time (use 2026-12-02T14:30, in UTC).");
            return null;
        }
    }

    /// <summary>The list's order from the <c>sort</c> field: newest first unless <c>due</c>; anything else is a problem, named.</summary>
    public static JobOrder Order(StringValues raw, List<string> problems)
    {
        switch (Value(raw))
        {
            case null or "newest":
                return JobOrder.Newest;
            case DueSort:
                return JobOrder.DueSoonest;
            case var other:
                problems.Add($"Sort '{other}' is not 'newest' or '{DueSort}'; showing the newest jobs first.");
                return JobOrder.Newest;
        }
    }

    private static string? Value(StringValues raw)
    {
        var text = raw.ToString().Trim();
        return text.Length == 0 ? null : text[..Math.Min(text.Length, MaxLength)];
    }
}
