using System.Globalization;
using System.Text.Json;
using JobWorker.Jobs;

namespace JobWorker.Dashboard;

/// <summary>How the pages write numbers, times, durations, JSON and links to the jobs list; text only, the templates encode it.</summary>
internal static class DashboardFormat
{
    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A coordinate or length in the chart's SVG.</summary>
    public static string Svg(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>A duration as an operator reads it: 850 ms, 12 s, 4 min 10 s, 3 h 5 min, 2 d 4 h.</summary>
    public static string Duration(TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        span = span.Duration();
        var text = span.TotalSeconds < 1 ? $"{span.TotalMilliseconds:0} ms"
            : span.TotalMinutes < 1 ? $"{span.TotalSeconds:0} s"
            : span.TotalHours < 1 ? $"{span.Minutes} min {span.Seconds} s"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours} h {span.Minutes} min"
            : $"{(int)span.TotalDays} d {span.Hours} h";
        return negative ? $"-{text}" : text;
    }

    /// <summary>JSON indented for reading; anything else as it is.</summary>
    public static string Pretty(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    /// <summary>The jobs list for <paramref name="filter"/> in <paramref name="order"/>, after the page that ended at <paramref name="before"/> when given.</summary>
    public static string JobsUrl(string basePath, JobFilter filter, JobCursor? before, JobOrder order = JobOrder.Newest)
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }

        Add("state", filter.State?.ToString());
        Add("type", filter.Type);
        Add("error", filter.ErrorContains);
        Add("owner", filter.Owner);
        Add("from", filter.CreatedFrom?.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        Add("to", filter.CreatedTo?.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        Add("sort", order == JobOrder.DueSoonest ? JobFilterForm.DueSort : null);
        Add("before", before?.ToString());
        return query.Count == 0 ? $"{basePath}/jobs" : $"{basePath}/jobs?{string.Join('&', query)}";
    }

    /// <summary>The smallest of 1, 2 or 5 times a power of ten that is at least <paramref name="value"/>: the chart's top line.</summary>
    public static long NiceCeiling(long value)
    {
        var magnitude = (long)Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    // The text is HTML-encoded where it is written, so JSON's own escaping of non-ASCII would only hurt reading.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
