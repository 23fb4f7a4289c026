using Microsoft.Extensions.Configuration;

namespace JobWorker.Settings;

/// <summary>
/// Settings that moved or were renamed, and the bridge that keeps the old keys working: an old key that is set while its
/// new key is not is bound in its place, and the worker logs a warning at start naming the new key.
/// </summary>
internal static class RenamedSettings
{
    /// <summary>Every rename, old key first. The README's configuration reference lists the same.</summary>
    public static readonly IReadOnlyList<(string Old, string New)> All =
    [
        ("Jobs:DefaultMaxAttempts", "Submissions:DefaultMaxAttempts"),
        ("Jobs:DefaultTimeout", "Submissions:DefaultTimeout"),
        ("Jobs:MaxTimeout", "Submissions:MaxTimeout"),
        ("Jobs:MaxScheduleAhead", "Submissions:MaxScheduleAhead"),
        ("Jobs:MaxPayloadBytes", "Submissions:MaxPayloadBytes"),
        ("Jobs:RetryBaseDelay", "Retries:BaseDelay"),
        ("Jobs:RetryMaxDelay", "Retries:MaxDelay"),
        ("Resilience:RetryBaseDelay", "Resilience:TransitionRetryBaseDelay"),
        ("Resilience:RetryMaxDelay", "Resilience:TransitionRetryMaxDelay"),
    ];

    /// <summary>One warning per old key that is set: what to use instead, and whether it still takes effect.</summary>
    public static IEnumerable<string> Warnings(IConfiguration configuration) =>
        from rename in All
        where configuration[rename.Old] is not null
        select configuration[rename.New] is null
            ? $"Setting {rename.Old} is renamed {rename.New}; the old key still works for now. Set {rename.New} instead."
            : $"Setting {rename.Old} is ignored: it is renamed {rename.New}, which is set too. Remove {rename.Old}.";

    /// <summary>Binds, onto <paramref name="options"/> of <paramref name="section"/>, every old key whose new key is unset.</summary>
    public static void Apply<T>(T options, IConfiguration configuration, string section) where T : class
    {
        foreach (var (old, renamed) in All)
        {
            if (!renamed.StartsWith(section + ":", StringComparison.Ordinal) || configuration[old] is not { } value || configuration[renamed] is not null)
            {
                continue;
            }

            var property = renamed[(section.Length + 1)..];
            try
            {
                new ConfigurationBuilder().AddInMemoryCollection([new(property, value)]).Build().Bind(options);
            }
            catch (InvalidOperationException e)
            {
                // The binder names the property; the user wrote the old key.
                throw new InvalidOperationException(e.Message.Replace($"'{property}'", $"'{old}'", StringComparison.Ordinal), e.InnerException);
            }
        }
    }
}
