namespace JobWorker.Client;

/// <summary>
/// The broker the deployment's workers use, read from the worker's own section <c>RabbitMq</c> (the same keys and
/// defaults), so an app that already configures a worker configures its client with it.
/// </summary>
public sealed class JobClientBrokerOptions
{
    /// <summary>The one node to connect to when <see cref="Hosts"/> is empty (<c>RabbitMq:Host</c>).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary><c>RabbitMq:Port</c>.</summary>
    public int Port { get; set; } = 5672;

    /// <summary>A cluster's nodes, each <c>host:port</c> (<c>RabbitMq:Hosts</c>); when set, it replaces Host and Port.</summary>
    public string[] Hosts { get; set; } = [];

    /// <summary><c>RabbitMq:VirtualHost</c>.</summary>
    public string VirtualHost { get; set; } = "/";

    /// <summary><c>RabbitMq:Username</c>.</summary>
    public string Username { get; set; } = "guest";

    /// <summary><c>RabbitMq:Password</c>; set it through <c>RabbitMq__Password</c> or a secret store.</summary>
    public string Password { get; set; } = "guest";

    /// <summary>The type of the deployment's queues (<c>RabbitMq:QueueType</c>): it decides where a status or cancel request is sent.</summary>
    public JobClientQueueType QueueType { get; set; } = JobClientQueueType.Classic;

    /// <summary>The longest a send (or the jobs queue's declare) may wait for the broker (<c>RabbitMq:PublishTimeout</c>).</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The nodes to connect to, in order: <see cref="Hosts"/> when set, else <see cref="Host"/>:<see cref="Port"/>.</summary>
    internal IReadOnlyList<BrokerNode> Nodes() => BrokerNode.All(Hosts, Host, Port);
}
