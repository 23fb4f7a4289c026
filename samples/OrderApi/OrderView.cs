using JobWorker.Contracts;

namespace OrderApi;

/// <summary>What the API answers: the order, and its confirmation job's state as a worker reports it.</summary>
public sealed record OrderView(Order Order, Guid JobId, string JobState, string? JobError)
{
    public static OrderView Of(Order order, JobStatus job) =>
        new(order, job.JobId, job.Found ? job.State : "Unknown", job.Error);
}
