using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>
/// The backoff between a failed attempt and the next (Celery's <c>retry_backoff</c>). Section <c>Retries</c>. Not to be
/// confused with <c>Resilience:TransitionRetry*</c>, which retries one database write.
/// </summary>
internal sealed class RetryOptions
{
    public const string Section = "Retries";

    /// <summary>
    /// Backoff before the second attempt; doubles per attempt up to <see cref="MaxDelay"/>, and the job waits a random
    /// time between half of that and all of it. The job waits as Pending, holding no slot and no message.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Retries:BaseDelay must be between 0 and 1 h.")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest backoff between two attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "Retries:MaxDelay must be between 0 and 1 day.")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(1);
}
