using JobWorker.Contracts;
using Npgsql;

namespace JobWorker.Client;

/// <summary>
/// Submits, follows and cancels a JobWorker deployment's jobs (the one named by <c>Jobs:QueueName</c>). Registered by
/// <c>services.AddJobWorkerClient(configuration)</c>; a singleton, safe to share.
/// </summary>
public interface IJobClient
{
    /// <summary>
    /// Sends a SubmitJob for <paramref name="jobType"/> to the deployment's jobs queue and returns the job's id.
    /// <paramref name="payload"/> is sent as it is when it is a <see cref="System.Text.Json.JsonElement"/>, else serialised
    /// with System.Text.Json's web defaults (camelCase). Bad options throw <see cref="ArgumentException"/> naming the option.
    /// </summary>
    Task<Guid> SubmitAsync(string jobType, object? payload = null, JobSubmitOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><see cref="SubmitAsync(string, object?, JobSubmitOptions?, CancellationToken)"/> with a typed payload.</summary>
    Task<Guid> SubmitAsync<TPayload>(string jobType, TPayload payload, JobSubmitOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Transactional enqueue: writes the job into the ledger's <c>jobs</c> table on <paramref name="transaction"/>'s
    /// connection, inside that transaction, and returns its id. A rollback leaves no job; once the caller commits, a
    /// worker's dispatcher checks it as a SubmitJob is checked (the workers' limits, a handler for its type) and sends it,
    /// within one <c>Dispatch:Interval</c>; a job that fails the checks ends Failed with the reason. The connection must
    /// reach the workers' database (its default schema holding their tables). Idempotent on the job id: a second enqueue
    /// of the same id adds nothing.
    /// </summary>
    Task<Guid> SubmitAsync(string jobType, object? payload, NpgsqlTransaction transaction, JobSubmitOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><see cref="SubmitAsync(string, object?, NpgsqlTransaction, JobSubmitOptions?, CancellationToken)"/> with a typed payload.</summary>
    Task<Guid> SubmitAsync<TPayload>(string jobType, TPayload payload, NpgsqlTransaction transaction, JobSubmitOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks a worker for the job's state (GetJobStatus to the deployment's status queue), waiting at most
    /// <c>JobClient:StatusTimeout</c>; <see cref="JobStatus.Found"/> is false for a job no worker has seen.
    /// </summary>
    Task<JobStatus> GetStatusAsync(Guid jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Follows the job until it is Succeeded, Failed or Cancelled, and returns that status. Throws
    /// <see cref="TimeoutException"/>, naming the job and its last state (or that no worker answered), when
    /// <paramref name="timeout"/> passes first. <see cref="Timeout.InfiniteTimeSpan"/> waits until
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    Task<JobStatus> WaitAsync(Guid jobId, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks for the job to be cancelled (CancelJob to the deployment's cancel queue): a pending or scheduled job never
    /// runs, a running one's handler is stopped; it ends Cancelled with <paramref name="reason"/>.
    /// </summary>
    Task CancelAsync(Guid jobId, string? reason = null, CancellationToken cancellationToken = default);
}
