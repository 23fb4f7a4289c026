namespace JobWorker.Jobs;

/// <summary>
/// The checks a new job passes before a worker takes it on, however it arrived: a SubmitJob (<see cref="JobProcessor.TakeAsync"/>)
/// or a row the client's transactional enqueue wrote (<see cref="EnqueuedJobAcceptor"/>). One place, so the two never drift.
/// </summary>
internal static class AcceptChecks
{
    /// <summary>
    /// Why <paramref name="job"/> can never run as asked, or null: its limits (<see cref="JobLimits.Check"/>, against
    /// <paramref name="utcNow"/>, the time it was submitted), then whether this replica has a handler for its type. The
    /// replica that accepts a job judges its type: replicas of one deployment are assumed to handle the same types.
    /// </summary>
    public static string? Problem(NewJob job, SubmissionOptions submissions, JobHandlerCatalog handlers, DateTime utcNow) =>
        JobLimits.Check(job, submissions, utcNow) ?? (handlers.Handles(job.Type) ? null : handlers.DescribeUnknown(job.Type));
}
