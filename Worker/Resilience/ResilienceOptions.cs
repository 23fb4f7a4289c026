using System.ComponentModel.DataAnnotations;

namespace JobWorker.Resilience;

/// <summary>How state transitions ride out database trouble. Section <c>Resilience</c>.</summary>
internal sealed class ResilienceOptions
{
    public const string Section = "Resilience";

    /// <summary>First backoff after a transient database error; doubles per retry, with jitter, up to <see cref="TransitionRetryMaxDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00", ErrorMessage = "Resilience:TransitionRetryBaseDelay must be between 1 ms and 1 min.")]
    public TimeSpan TransitionRetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Longest backoff between retries. A transition is retried until it succeeds or its job is cancelled
    /// (shutdown), so a database outage pauses jobs instead of failing them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00", ErrorMessage = "Resilience:TransitionRetryMaxDelay must be between 10 ms and 5 min.")]
    public TimeSpan TransitionRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Share of failed transitions in the sampling window that opens the breaker and pauses consumption.</summary>
    [Range(0.01, 1.0, ErrorMessage = "Resilience:BreakerFailureRatio must be between 0.01 and 1.")]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Transitions in the window before the breaker may open.</summary>
    [Range(2, 10_000, ErrorMessage = "Resilience:BreakerMinimumThroughput must be between 2 and 10000.")]
    public int BreakerMinimumThroughput { get; set; } = 8;

    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Resilience:BreakerSamplingDuration must be between 0.5 s and 10 min.")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the breaker stays open before one probe may test the database again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Resilience:BreakerBreakDuration must be between 0.5 s and 10 min.")]
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// After a job's consume is cancelled by shutdown, how long its outcome write may still try. If it cannot
    /// be written by then, the message is requeued and the job's lease lets another replica take it over.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Resilience:OutcomeGracePeriod must be between 0 and 5 min.")]
    public TimeSpan OutcomeGracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}
