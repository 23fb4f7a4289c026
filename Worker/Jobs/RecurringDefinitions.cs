using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace JobWorker.Jobs;

/// <summary>
/// The schedules this worker's configuration (<c>Recurring:&lt;key&gt;</c>) and code (<c>AddRecurringJob</c>) define,
/// read and checked once. A key both define is taken from configuration, so an operator can change a schedule the code
/// ships with environment variables alone. Every problem names its setting (<c>Recurring:&lt;key&gt;:&lt;field&gt;</c>).
/// </summary>
internal sealed partial class RecurringDefinitions
{
    private static readonly string[] Fields =
        ["Cron", "Type", "Payload", "TimeZone", "MaxAttempts", "Timeout", "Overlap", "CatchUp", "CatchUpWindow"];

    // The widths of the recurring_jobs columns: a longer value would fail the start-up sync on every start, so it fails
    // validation instead, naming the setting.
    private const int CronLength = 200;
    private const int ZoneLength = 100;
    private const int TypeLength = 100;

    private readonly List<RecurringDefinition> _definitions = [];
    private readonly List<string> _problems = [];

    public RecurringDefinitions(IConfiguration configuration, IEnumerable<RecurringDefinition> code)
    {
        // Keys compare without case, as configuration's do: code's "Nightly" and configuration's "nightly" are one
        // schedule, never two rows firing twice.
        var fromConfiguration = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in configuration.GetSection(RecurringOptions.Section).GetChildren())
        {
            if (RecurringOptions.SettingNames.Contains(section.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!section.GetChildren().Any())
            {
                if (section.Value is not null)
                {
                    _problems.Add($"{RecurringOptions.Section}:{section.Key} is neither a setting ({string.Join(", ", RecurringOptions.SettingNames)}) "
                        + "nor a schedule (a section with Cron and Type).");
                }

                continue;
            }

            if (Read(section) is { } definition)
            {
                _definitions.Add(definition);
            }

            fromConfiguration.Add(section.Key);
        }

        var fromCode = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var definition in code)
        {
            var name = $"AddRecurringJob(\"{definition.Key}\")";
            if (!fromCode.Add(definition.Key))
            {
                _problems.Add($"{name}: the key is added twice in code (keys do not differ by case alone); add each schedule once.");
                continue;
            }

            if (fromConfiguration.Contains(definition.Key))
            {
                Overridden.Add(definition.Key);
                continue;
            }

            var problems = _problems.Count;
            Check(KeyProblem(definition.Key), $"{name}: the key");
            Check(RecurringCron.Problem(definition.Cron) ?? LengthProblem(definition.Cron, CronLength), $"{name}: the cron expression");
            Check(RecurringCron.ZoneProblem(definition.TimeZone) ?? LengthProblem(definition.TimeZone, ZoneLength), $"{name}: TimeZone");
            Check(LengthProblem(definition.Type, TypeLength), $"{name}: the job type");
            Check(PayloadProblem(definition.PayloadJson), $"{name}: the payload");
            Check(AttemptsProblem(definition.MaxAttempts), $"{name}: MaxAttempts");
            Check(TimeoutProblem(definition.Timeout), $"{name}: Timeout");
            Check(WindowProblem(definition.CatchUpWindow), $"{name}: CatchUpWindow");
            if (_problems.Count == problems)
            {
                _definitions.Add(definition);
            }
        }
    }

    /// <summary>The valid schedules, configuration's and code's.</summary>
    public IReadOnlyList<RecurringDefinition> All => _definitions;

    /// <summary>Keys that code defines and configuration redefines (configuration wins).</summary>
    public List<string> Overridden { get; } = [];

    /// <summary>What is wrong, each naming its setting; the worker does not start while any is.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>Why <paramref name="type"/> cannot be a schedule's job type, given the handlers this worker has; null when it can.</summary>
    public static string? TypeProblem(string? type, JobHandlerCatalog catalog) =>
        string.IsNullOrWhiteSpace(type) ? "is required (the job type to run)"
        : catalog.Handles(type) ? null
        : $"'{type}' is not a job type this worker handles ({(catalog.JobTypes.Count == 0 ? "none" : string.Join(", ", catalog.JobTypes))})";

    public static string? KeyProblem(string key) =>
        KeyPattern().IsMatch(key) ? null : $"'{key}' may hold only letters, digits, '.', '_' and '-' (at most 200)";

    public static string? PayloadProblem(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return HasNul(document.RootElement)
                ? "holds the character \\u0000, which PostgreSQL's jsonb cannot store"
                : null;
        }
        catch (JsonException e)
        {
            return $"is not valid JSON text ({e.Message})";
        }
    }

    private static bool HasNul(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!.Contains('\0', StringComparison.Ordinal),
        JsonValueKind.Array => element.EnumerateArray().Any(HasNul),
        JsonValueKind.Object => element.EnumerateObject().Any(p => p.Name.Contains('\0', StringComparison.Ordinal) || HasNul(p.Value)),
        _ => false,
    };

    private static string? LengthProblem(string? value, int limit) =>
        value is not null && value.Trim().Length > limit ? $"is {value.Trim().Length} characters long; at most {limit} are stored" : null;

    private static string? AttemptsProblem(int? attempts) =>
        attempts is null or (>= JobLimits.MinAttempts and <= JobLimits.MaxAttempts) ? null
        : $"is {attempts}; it must be between {JobLimits.MinAttempts} and {JobLimits.MaxAttempts}";

    private static string? TimeoutProblem(TimeSpan? timeout) =>
        timeout is null || (timeout > TimeSpan.Zero && timeout <= TimeSpan.FromDays(30)) ? null
        : $"is {timeout}; it must be positive and at most 30 days";

    private static string? WindowProblem(TimeSpan? window) =>
        window is null || (window > TimeSpan.Zero && window <= TimeSpan.FromDays(366)) ? null
        : $"is {window}; it must be positive and at most 366 days";

    private RecurringDefinition? Read(IConfigurationSection section)
    {
        var key = section.Key;
        string Name(string field) => $"{RecurringOptions.Section}:{key}:{field}";
        var problems = _problems.Count;

        Check(KeyProblem(key), $"{RecurringOptions.Section}:{key}: the key");
        foreach (var child in section.GetChildren())
        {
            if (!Fields.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                _problems.Add($"{Name(child.Key)} is not a setting of a schedule; it has {string.Join(", ", Fields)}.");
            }
        }

        var cron = section["Cron"];
        Check(RecurringCron.Problem(cron) ?? LengthProblem(cron, CronLength), Name("Cron"));
        var type = section["Type"];
        if (string.IsNullOrWhiteSpace(type))
        {
            _problems.Add($"{Name("Type")} is required (the job type to run).");
        }

        Check(LengthProblem(type, TypeLength), Name("Type"));

        var payload = section["Payload"];
        Check(PayloadProblem(payload), Name("Payload"));
        var zone = section["TimeZone"] ?? "UTC";
        Check(RecurringCron.ZoneProblem(zone) ?? LengthProblem(zone, ZoneLength), Name("TimeZone"));
        var attempts = Parse(section["MaxAttempts"], Name("MaxAttempts"), s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (int?)null, "a whole number");
        Check(AttemptsProblem(attempts), Name("MaxAttempts"));
        var timeout = Parse(section["Timeout"], Name("Timeout"), ParseSpan, "a time span such as 00:05:00");
        Check(TimeoutProblem(timeout), Name("Timeout"));
        var overlap = Parse(section["Overlap"], Name("Overlap"), s => Enum.TryParse<RecurringOverlap>(s, true, out var v) && !int.TryParse(s, out _) ? v : (RecurringOverlap?)null, "Skip or Allow");
        var catchUp = Parse(section["CatchUp"], Name("CatchUp"), s => Enum.TryParse<RecurringCatchUp>(s, true, out var v) && !int.TryParse(s, out _) ? v : (RecurringCatchUp?)null, "None, Latest or All");
        var window = Parse(section["CatchUpWindow"], Name("CatchUpWindow"), ParseSpan, "a time span such as 01:00:00");
        Check(WindowProblem(window), Name("CatchUpWindow"));

        return _problems.Count > problems ? null : new RecurringDefinition(
            key, cron!.Trim(), type!.Trim(), string.IsNullOrWhiteSpace(payload) ? "null" : payload, zone.Trim(), attempts, timeout,
            overlap ?? RecurringOverlap.Skip, catchUp ?? RecurringCatchUp.None, window, RecurringSource.Configuration);
    }

    private static TimeSpan? ParseSpan(string text) =>
        TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;

    private T? Parse<T>(string? text, string name, Func<string, T?> parse, string expected) where T : struct
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var value = parse(text.Trim());
        if (value is null)
        {
            _problems.Add($"{name} is '{text}'; it must be {expected}.");
        }

        return value;
    }

    private void Check(string? problem, string name)
    {
        if (problem is not null)
        {
            _problems.Add($"{name} {problem}.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,200}$")]
    private static partial Regex KeyPattern();
}
