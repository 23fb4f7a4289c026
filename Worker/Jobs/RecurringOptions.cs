using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>
/// How replicas fire recurring schedules. Section <c>Recurring</c>; the schedules themselves are its subsections
/// (<c>Recurring:&lt;key&gt;:Cron</c>…, read by <see cref="RecurringDefinitions"/>), so these names are not schedule keys.
/// </summary>
internal sealed class RecurringOptions : IValidatableObject
{
    public const string Section = "Recurring";

    /// <summary>The setting names of the section, which no schedule may take as its key.</summary>
    public static readonly IReadOnlyList<string> SettingNames = [nameof(PollInterval), nameof(MisfireThreshold), nameof(MaxJobsPerClaim)];

    /// <summary>How often each replica looks for due schedules of its queue; an occurrence fires at most this late.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Recurring:PollInterval must be between 50 ms and 1 min.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How late an occurrence may be and still fire as usual; a later one was missed (no replica ran) and its schedule's
    /// <c>CatchUp</c> decides. Longer than a replica's restart, shorter than the gap an operator would not want filled.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Recurring:MisfireThreshold must be between 100 ms and 1 day.")]
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Jobs one claim of a schedule inserts at most (a catch-up of many occurrences goes on over the next ticks).</summary>
    [Range(1, 1000, ErrorMessage = "Recurring:MaxJobsPerClaim must be between 1 and 1000.")]
    public int MaxJobsPerClaim { get; set; } = 100;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // An on-time occurrence is read up to one poll late (more when a tick is slow); a threshold under two polls would
        // call ordinary occurrences missed and hand them to CatchUp.
        if (MisfireThreshold < 2 * PollInterval)
        {
            yield return new ValidationResult(
                $"Recurring:MisfireThreshold ({MisfireThreshold}) must be at least twice Recurring:PollInterval ({PollInterval}).",
                [nameof(MisfireThreshold), nameof(PollInterval)]);
        }
    }
}
