namespace JobWorker.Jobs;

/// <summary>
/// What the job lifecycle needs from the message broker, implemented by Messaging. Every call is bounded: it
/// completes, or throws, within the broker's publish timeout, so no slot or tick ever waits on the broker for ever.
/// </summary>
internal interface IJobBroker
{
    /// <summary>The longest any call takes before it returns or throws (<c>RabbitMq:PublishTimeout</c>).</summary>
    TimeSpan CallBound { get; }

    /// <summary>
    /// Sends a dispatched job to this deployment's queue: a SubmitJob that names it and is marked as dispatched, so the
    /// replica that takes it claims it from the ledger rather than accepting it again. Returns once the broker confirmed it.
    /// </summary>
    Task SendAsync(DueJob job, CancellationToken cancellationToken);

    /// <summary>Publishes the event; returns once the broker has confirmed it.</summary>
    Task PublishAsync(OutboxEvent recorded, CancellationToken cancellationToken);

    /// <summary>Sends a CancelJob to this deployment's cancel queue, as other services do: the replica running the job stops it at once.</summary>
    Task PublishCancelAsync(Guid jobId, string reason, CancellationToken cancellationToken);
}
