namespace JobWorker.Persistence;

/// <summary>
/// One row of <c>job_parents</c>: a continuation (<see cref="JobId"/>, Awaiting) waits for <see cref="ParentId"/>. The parent
/// is any job id, in any queue, and need not exist yet; the row goes with the child's job row (retention, purge).
/// </summary>
internal sealed class JobParent
{
    public Guid JobId { get; set; }
    public Guid ParentId { get; set; }
}
