using JobWorker.Contracts;

namespace OrderApi;

/// <summary>
/// What the API answers: the order, and its confirmation job's state as a worker reports it; <c>Unknown</c> when no
/// worker has seen the job or none answered in time (the job's id is the order's).
/// </summary>
public sealed record OrderView(Order Order, Guid JobId, string JobState, string? JobError)
{
    public static OrderView Of(Order order, JobStatus? job) =>
        job is { Found: true } ? new(order, job.JobId, job.State, job.Error) : new(order, order.Id, "Unknown", null);
}
