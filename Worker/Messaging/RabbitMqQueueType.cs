namespace JobWorker.Messaging;

/// <summary>What RabbitMQ queue type the deployment's durable queues (jobs, cancels, status requests) are declared as.</summary>
public enum RabbitMqQueueType
{
    /// <summary>A classic queue on one node: what every earlier version declared.</summary>
    Classic,

    /// <summary>A quorum queue, replicated over a majority of the cluster's nodes: it survives losing a node.</summary>
    Quorum,
}
