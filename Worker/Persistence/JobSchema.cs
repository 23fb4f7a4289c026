namespace JobWorker.Persistence;

/// <summary>Column limits shared by the EF model, the migration and input validation.</summary>
internal static class JobSchema
{
    /// <summary>Also checked by the client before it sends or writes a job: defined there, once.</summary>
    public const int MaxTypeLength = JobWorker.Client.JobSubmission.MaxTypeLength;
    public const int MaxOwnerLength = 200;
    public const int MaxQueueLength = 200;
    public const int MaxRecurringKeyLength = 200;

    /// <summary>A progress message longer than this is cut (the status line and the dashboard show it whole).</summary>
    public const int MaxProgressMessageLength = 500;

    /// <summary>A checkpoint's largest size, in bytes of compact JSON: it is read with every claim of the job.</summary>
    public const int MaxCheckpointBytes = 64 * 1024;
    public const int MaxConcurrencyKeyLength = JobWorker.Client.JobSubmission.MaxConcurrencyKeyLength;
}
