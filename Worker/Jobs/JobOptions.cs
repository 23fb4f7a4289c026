using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>How this worker consumes and runs jobs. Section <c>Jobs</c>.</summary>
internal sealed class JobOptions
{
    public const string Section = "Jobs";

    /// <summary>The RabbitMQ queue that SubmitJob messages are consumed from.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Jobs:QueueName is required.")]
    [RegularExpression("^[A-Za-z0-9._-]{1,200}$", ErrorMessage = "Jobs:QueueName may hold only letters, digits, '.', '_' and '-'.")]
    public string QueueName { get; set; } = "jobworker";

    /// <summary>Jobs this replica runs at once. Each holds no connection while its handler runs.</summary>
    [Range(1, 10_000, ErrorMessage = "Jobs:ConcurrentJobs must be between 1 and 10000.")]
    public int ConcurrentJobs { get; set; } = 32;

    /// <summary>Attempts per job when the message does not say.</summary>
    [Range(1, 100, ErrorMessage = "Jobs:DefaultMaxAttempts must be between 1 and 100.")]
    public int DefaultMaxAttempts { get; set; } = 3;

    /// <summary>Per-attempt time limit when the message does not say; at most <see cref="MaxTimeout"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "30.00:00:00", ErrorMessage = "Jobs:DefaultTimeout must be between 10 ms and 30 days.")]
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest per-attempt time limit a SubmitJob may ask for; a longer one fails the job at accept.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "30.00:00:00", ErrorMessage = "Jobs:MaxTimeout must be between 10 ms and 30 days.")]
    public TimeSpan MaxTimeout { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How far ahead a SubmitJob may schedule its job (<c>RunAt</c> or <c>Delay</c>); further fails the job at accept.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00", ErrorMessage = "Jobs:MaxScheduleAhead must be between 0 and 3650 days.")]
    public TimeSpan MaxScheduleAhead { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// How long a Running job stays owned without renewal. The owner renews it every third of this, and stops a
    /// handler whose lease it could not renew for this long; after a crash recovery takes the job back once it lapses.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Jobs:LeaseDuration must be between 1 s and 1 h.")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Backoff before the second attempt; doubles per attempt up to <see cref="RetryMaxDelay"/>, and the job waits a
    /// random time between half of that and all of it. The job waits as Pending, holding no slot and no message.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Jobs:RetryBaseDelay must be between 0 and 1 h.")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "Jobs:RetryMaxDelay must be between 0 and 1 day.")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Largest accepted payload, in bytes of JSON text. At most 64 MiB, below RabbitMQ's own largest message (128 MiB by
    /// default), so the broker never refuses a message the worker would accept.
    /// </summary>
    [Range(2, 64 * 1024 * 1024, ErrorMessage = "Jobs:MaxPayloadBytes must be between 2 and 67108864.")]
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>On shutdown, how long running jobs may finish before they are stopped, released to Pending and sent again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Jobs:DrainTimeout must be between 0 and 1 h.")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Names this replica in the jobs table's owner column; host name and process id when empty.</summary>
    [MaxLength(100, ErrorMessage = "Jobs:WorkerName must be at most 100 characters.")]
    public string? WorkerName { get; set; }
}
