namespace JobWorker.Persistence;

/// <summary>
/// One row of <c>job_starts</c>: a start of a job whose type has a rate limit (<c>Limits:&lt;type&gt;:Rate</c>). The limited
/// claim counts a type's starts within the interval and prunes older ones, so the table holds about one interval's worth.
/// </summary>
internal sealed class JobStart
{
    public string Type { get; set; } = "";
    public DateTime StartedAt { get; set; }
    public Guid JobId { get; set; }
}
