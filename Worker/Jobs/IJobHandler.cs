using System.Text.Json;

namespace JobWorker.Jobs;

/// <summary>
/// Runs one job type. Registered with <see cref="JobHandlerServiceCollectionExtensions.AddJobHandler{THandler}"/>
/// under its job type and resolved per job from the message's scope. No database connection is held while it runs.
/// </summary>
public interface IJobHandler
{
    /// <summary>
    /// Does the work. Returns the result to store (null for none). Throw <see cref="InvalidJobPayloadException"/>
    /// for input that will never succeed (no retry); any other exception fails this attempt and may be retried.
    /// Honour <paramref name="cancellationToken"/>: stop soon after it fires, for any of these causes:
    /// <list type="bullet">
    /// <item>the attempt's time limit (the job's <c>Timeout</c>, or <c>Submissions:DefaultTimeout</c>) passed: the attempt fails and may be retried;</item>
    /// <item>the job was cancelled (a <c>CancelJob</c>, <c>jobworker jobs cancel</c> or the dashboard), heard at once by this replica or at
    /// its next lease renewal: the job ends Cancelled;</item>
    /// <item>the worker is stopping and <c>Jobs:DrainTimeout</c> has passed: the job goes back to Pending without using up the attempt;</item>
    /// <item>this replica lost the job's lease (it could not renew it, e.g. the database was unreachable for a lease, or the
    /// job is no longer its own): the attempt is abandoned and another replica may run the job.</item>
    /// </list>
    /// Whatever the handler returns or throws after the token fired, the cause decides how the attempt ends.
    /// </summary>
    Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken);
}
