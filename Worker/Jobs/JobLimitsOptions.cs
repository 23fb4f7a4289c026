using System.Globalization;
using JobWorker.Persistence;
using Microsoft.Extensions.Configuration;

namespace JobWorker.Jobs;

/// <summary>
/// Fleet-wide limits per job type, section <c>Limits</c> (<c>Limits:&lt;type&gt;:Concurrency</c>, <c>PerKeyConcurrency</c>,
/// <c>Rate</c>). Read by hand rather than bound, so that a misspelt field or a bad value stops the worker naming the exact
/// key. Every replica must be given the same limits: each claim applies its own replica's.
/// </summary>
internal sealed class JobLimitsOptions
{
    public const string Section = "Limits";

    private static readonly string[] Fields = ["Concurrency", "PerKeyConcurrency", "Rate"];

    private readonly Dictionary<string, LimitRule> _rules = new(StringComparer.Ordinal);

    /// <summary>The limited types, by type name.</summary>
    public IReadOnlyDictionary<string, LimitRule> Rules => _rules;

    /// <summary>What is wrong with the section, one line per setting.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>The rule of <paramref name="type"/>, or null when the type is not limited.</summary>
    public LimitRule? For(string type) => _rules.GetValueOrDefault(type);

    /// <summary>The limited types' names, which the dispatcher's ordinary batch leaves to the limit-aware take.</summary>
    public string[] LimitedTypes => [.. _rules.Keys];

    /// <summary>Reads the section (replacing any rule read before).</summary>
    public void Read(IConfigurationSection section)
    {
        _rules.Clear();
        Problems.Clear();
        foreach (var type in section.GetChildren())
        {
            var name = $"{Section}:{type.Key}";
            if (type.Key.Length > JobSchema.MaxTypeLength || type.Key.Any(char.IsControl))
            {
                // Never a type a job can have; and the dispatcher names the limited types in its statement's text.
                Problems.Add($"{name}: a job type has at most {JobSchema.MaxTypeLength} characters and no control character.");
                continue;
            }

            if (!type.GetChildren().Any())
            {
                if (type.Value is not null)
                {
                    Problems.Add($"{name} must be a section with {string.Join(", ", Fields)}.");
                }

                continue;
            }

            foreach (var field in type.GetChildren().Where(f => !Fields.Contains(f.Key, StringComparer.OrdinalIgnoreCase)))
            {
                Problems.Add($"{name}:{field.Key} is not a limit setting ({string.Join(", ", Fields)}).");
            }

            var problems = Problems.Count;
            var concurrency = Places(type, "Concurrency");
            var perKey = Places(type, "PerKeyConcurrency");
            LimitRate? rate = null;
            if (type["Rate"] is { } rateText)
            {
                if (LimitRate.TryParse(rateText, out var parsed) is { } problem)
                {
                    Problems.Add($"{name}:Rate {problem}.");
                }
                else
                {
                    rate = parsed;
                }
            }

            if (Problems.Count == problems && (concurrency ?? perKey ?? (object?)rate) is null)
            {
                Problems.Add($"{name} sets no limit: give Concurrency, PerKeyConcurrency or Rate.");
            }

            if (Problems.Count == problems)
            {
                _rules[type.Key] = new LimitRule(type.Key, concurrency, perKey, rate);
            }
        }
    }

    private int? Places(IConfigurationSection type, string field)
    {
        if (type[field] is not { } text)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var places) && places >= 1)
        {
            return places;
        }

        Problems.Add($"{Section}:{type.Key}:{field} is '{text}'; it must be a whole number of at least 1.");
        return null;
    }
}
