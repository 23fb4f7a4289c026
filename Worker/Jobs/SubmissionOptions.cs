using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>What a job gets when its SubmitJob does not say, and the most a SubmitJob may ask. Section <c>Submissions</c>.</summary>
internal sealed class SubmissionOptions
{
    public const string Section = "Submissions";

    /// <summary>Attempts per job when the message does not say.</summary>
    [Range(JobLimits.MinAttempts, JobLimits.MaxAttempts, ErrorMessage = "Submissions:DefaultMaxAttempts must be between 1 and 100.")]
    public int DefaultMaxAttempts { get; set; } = 3;

    /// <summary>Per-attempt time limit when the message does not say; at most <see cref="MaxTimeout"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "30.00:00:00", ErrorMessage = "Submissions:DefaultTimeout must be between 10 ms and 30 days.")]
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest per-attempt time limit a SubmitJob may ask for; a longer one fails the job at accept.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "30.00:00:00", ErrorMessage = "Submissions:MaxTimeout must be between 10 ms and 30 days.")]
    public TimeSpan MaxTimeout { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How far ahead a SubmitJob may schedule its job (<c>RunAt</c> or <c>Delay</c>); further fails the job at accept.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00", ErrorMessage = "Submissions:MaxScheduleAhead must be between 0 and 3650 days.")]
    public TimeSpan MaxScheduleAhead { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// Largest accepted payload, in bytes of JSON text. At most 64 MiB, below RabbitMQ's own largest message (128 MiB by
    /// default), so the broker never refuses a message the worker would accept.
    /// </summary>
    [Range(2, 64 * 1024 * 1024, ErrorMessage = "Submissions:MaxPayloadBytes must be between 2 and 67108864.")]
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;
}
