using System.ComponentModel.DataAnnotations;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>How long finished jobs are kept before <see cref="JobReaper"/> deletes them with their events. Section <c>Retention</c>.</summary>
internal sealed class RetentionOptions : IValidatableObject
{
    public const string Section = "Retention";

    private static readonly TimeSpan Shortest = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Longest = TimeSpan.FromDays(3650);

    /// <summary>How long a Succeeded job is kept after it finished; 0 keeps it for ever.</summary>
    public TimeSpan Succeeded { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a Failed job is kept after it finished (long enough for someone to look at it); 0 keeps it for ever.</summary>
    public TimeSpan Failed { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How long a Cancelled job is kept after it finished; 0 keeps it for ever.</summary>
    public TimeSpan Cancelled { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How often each replica looks for expired jobs; deleting is no hot-path work, so not every dispatch tick.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Retention:Interval must be between 1 s and 1 h.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Jobs one delete statement removes at most; small, so its locks and WAL never stall the write path.</summary>
    [Range(1, 10_000, ErrorMessage = "Retention:BatchSize must be between 1 and 10000.")]
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// Full batches one tick deletes at most per state before it yields to the next tick, so a backlog drains without
    /// hogging the database. The default (100 x 1000 per 30 s, about 3,300 jobs/s per replica) keeps up with a replica's
    /// best drain; a tick of it took about 7 s here.
    /// </summary>
    [Range(1, 1000, ErrorMessage = "Retention:MaxBatchesPerTick must be between 1 and 1000.")]
    public int MaxBatchesPerTick { get; set; } = 100;

    /// <summary>The retention of each terminal state that is kept for a limited time (0 is for ever, so absent).</summary>
    public IEnumerable<(JobState State, TimeSpan KeepFor)> Limits()
    {
        (JobState, TimeSpan)[] all = [(JobState.Succeeded, Succeeded), (JobState.Failed, Failed), (JobState.Cancelled, Cancelled)];
        return all.Where(l => l.Item2 != TimeSpan.Zero);
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[] { (nameof(Succeeded), Succeeded), (nameof(Failed), Failed), (nameof(Cancelled), Cancelled) })
        {
            if (value != TimeSpan.Zero && (value < Shortest || value > Longest))
            {
                yield return new ValidationResult(
                    $"Retention:{name} must be 0 (keep for ever) or between 1 min and 3650 days; it is {value}.", [name]);
            }
        }
    }
}
