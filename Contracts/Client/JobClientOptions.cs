namespace JobWorker.Client;

/// <summary>
/// What <see cref="IJobClient"/> needs to reach a deployment. Bound by <c>AddJobWorkerClient(configuration)</c> from the
/// worker's own keys where they mean the same (<c>Jobs:QueueName</c>, <c>RabbitMq:*</c>) and from section
/// <c>JobClient</c> for the client's own.
/// </summary>
public sealed class JobClientOptions
{
    /// <summary>The client's own section.</summary>
    public const string Section = "JobClient";

    /// <summary>The deployment's queue name, the workers' <c>Jobs:QueueName</c>; the status and cancel queues are named after it.</summary>
    public string QueueName { get; set; } = "jobworker";

    /// <summary>The broker, the workers' section <c>RabbitMq</c>.</summary>
    public JobClientBrokerOptions RabbitMq { get; set; } = new();

    /// <summary>How long <see cref="IJobClient.GetStatusAsync"/> waits for a worker's answer (<c>JobClient:StatusTimeout</c>).</summary>
    public TimeSpan StatusTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Largest payload, in bytes of compact JSON text (<c>JobClient:MaxPayloadBytes</c>). A job enqueued in a transaction
    /// is not checked by a worker's accept, so keep it at most the workers' <c>Submissions:MaxPayloadBytes</c> (the same default).
    /// </summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Attempts for a job enqueued in a transaction that does not say (<c>JobClient:DefaultMaxAttempts</c>); keep it equal to
    /// the workers' <c>Submissions:DefaultMaxAttempts</c> (the same default). A sent job gets the worker's default.
    /// </summary>
    public int DefaultMaxAttempts { get; set; } = 3;
}
