namespace JobWorker.Client;

/// <summary>The type of the deployment's queues (<c>RabbitMq:QueueType</c>), as the workers declare them.</summary>
public enum JobClientQueueType
{
    /// <summary>Classic queues; the jobs queue is a priority queue.</summary>
    Classic,

    /// <summary>Quorum queues, replicated across a cluster's nodes.</summary>
    Quorum,
}
