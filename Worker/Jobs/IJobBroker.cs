using JobWorker.Persistence;
namespace JobWorker.Jobs;

/// <summary>
/// What the job lifecycle needs from the message broker, implemented by Messaging. Every call is bounded: it
/// completes, or throws, within the broker's publish timeout, so no slot or tick ever waits on the broker for ever.
/// </summary>
internal interface IJobBroker
{
    /// <summary>Sends a SubmitJob for each job to the worker queue.</summary>
    Task SendAsync(IReadOnlyCollection<Job> jobs, CancellationToken cancellationToken);

    /// <summary>Publishes the event; returns once the broker has confirmed it.</summary>
    Task PublishAsync(OutboxEvent recorded, CancellationToken cancellationToken);

    /// <summary>Publishes a CancelJob, as other services do: the replica running the job stops it at once.</summary>
    Task PublishCancelAsync(Guid jobId, string reason, CancellationToken cancellationToken);
}
