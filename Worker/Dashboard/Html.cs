using System.Globalization;
using System.Net;
using System.Text;

namespace JobWorker.Dashboard;

/// <summary>
/// A page being written: text is always encoded, markup is written only by the pages themselves. The handful of
/// helpers the pages share (times, durations, state badges) live here too.
/// </summary>
internal sealed class Html
{
    private readonly StringBuilder _text = new(8 * 1024);

    /// <summary>Markup written as is: only ever constant strings of the pages' own.</summary>
    public Html Raw(string markup)
    {
        _text.Append(markup);
        return this;
    }

    /// <summary>Text, encoded.</summary>
    public Html Text(string? text)
    {
        _text.Append(WebUtility.HtmlEncode(text ?? ""));
        return this;
    }

    public Html Number(long value) => Raw(value.ToString("N0", CultureInfo.InvariantCulture));

    /// <summary>A UTC time, machine-readable in <c>datetime</c> and as text to the second.</summary>
    public Html Time(DateTime? at)
    {
        if (at is not { } time)
        {
            return Raw("<span class=\"muted\">–</span>");
        }

        return Raw("<time datetime=\"").Text(time.ToString("O", CultureInfo.InvariantCulture)).Raw("\">")
            .Text(time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Raw("</time>");
    }

    /// <summary>The job's state as a badge whose word carries the meaning; the colour only repeats it.</summary>
    public Html State(Persistence.JobState state) =>
        Raw("<span class=\"state state-").Raw(state.ToString().ToLowerInvariant()).Raw("\">").Text(state.ToString()).Raw("</span>");

    public override string ToString() => _text.ToString();

    public static string Attribute(string? value) => WebUtility.HtmlEncode(value ?? "");

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
}
