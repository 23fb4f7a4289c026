using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>
/// How this replica takes and runs jobs: its queue, its slots, its leases and its drain. Section <c>Jobs</c>. What a job
/// gets when its SubmitJob does not say is <see cref="SubmissionOptions"/>; the backoff between attempts is <see cref="RetryOptions"/>.
/// </summary>
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

    /// <summary>
    /// How long a Running job stays owned without renewal. The owner renews it every third of this, and stops a
    /// handler whose lease it could not renew for this long; after a crash recovery takes the job back once it lapses.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Jobs:LeaseDuration must be between 1 s and 1 h.")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On shutdown, how long running jobs may finish before they are stopped, released to Pending and sent again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Jobs:DrainTimeout must be between 0 and 1 h.")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often this replica writes the progress its handlers report: each job's latest report, all jobs in one
    /// statement. A job's last report is also written before its outcome.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Jobs:ProgressInterval must be between 100 ms and 1 min.")]
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Names this replica in the jobs table's owner column; host name and process id when empty.</summary>
    [MaxLength(100, ErrorMessage = "Jobs:WorkerName must be at most 100 characters.")]
    public string? WorkerName { get; set; }
}
