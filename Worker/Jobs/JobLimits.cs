namespace JobWorker.Jobs;

/// <summary>The per-job settings a submission may ask for, checked at accept against the configured limits.</summary>
internal static class JobLimits
{
    // The client checks the same limits before it sends or writes a job: one definition, the client's (the worker depends on it).
    public const int MinAttempts = JobWorker.Client.JobSubmission.MinAttempts;
    public const int MaxAttempts = JobWorker.Client.JobSubmission.MaxAttempts;

    /// <summary>Parent jobs one continuation may wait for (<c>SubmitJob.After</c>): a fan-in larger than this is a batch, not a job.</summary>
    public const int MaxParents = JobWorker.Client.JobSubmission.MaxParents;

    /// <summary>The lowest and highest job priority (<c>SubmitJob.Priority</c>), as a RabbitMQ priority queue of <c>x-max-priority</c> 9 takes them.</summary>
    public const int MinPriority = 0;
    public const int MaxPriority = JobWorker.Client.JobsQueue.MaxPriority;

    /// <summary>The reason <paramref name="job"/> cannot be accepted as asked, naming the limit; null when it can.</summary>
    public static string? Check(NewJob job, SubmissionOptions options, DateTime utcNow)
    {
        if (job.MaxAttempts is < MinAttempts or > MaxAttempts)
        {
            return $"MaxAttempts is {job.MaxAttempts}; it must be between {MinAttempts} and {MaxAttempts}.";
        }

        if (job.Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > options.MaxTimeout))
        {
            return $"Timeout is {timeout}; it must be positive and at most {options.MaxTimeout} (Submissions:MaxTimeout).";
        }

        if (job.RunAt is not null && job.Delay is not null)
        {
            return "Give RunAt or Delay, not both.";
        }

        if (job.Delay is { } delay && (delay < TimeSpan.Zero || delay > options.MaxScheduleAhead))
        {
            return $"Delay is {delay}; it must be between 0 and {options.MaxScheduleAhead} (Submissions:MaxScheduleAhead).";
        }

        if (job.RunAt is { } runAt && runAt - utcNow > options.MaxScheduleAhead)
        {
            return $"RunAt is {runAt:O}, more than {options.MaxScheduleAhead} (Submissions:MaxScheduleAhead) from now.";
        }

        if (job.Priority is < MinPriority or > MaxPriority)
        {
            return $"Priority is {job.Priority}; it must be between {MinPriority} and {MaxPriority}.";
        }

        return null;
    }
}
