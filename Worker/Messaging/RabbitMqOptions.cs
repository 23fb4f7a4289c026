using System.ComponentModel.DataAnnotations;
using RabbitMQ.Client;

namespace JobWorker.Messaging;

/// <summary>The broker. Section <c>RabbitMq</c>. Set the password through <c>RabbitMq__Password</c> or a secret store.</summary>
internal sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    /// <summary>The defaults of <see cref="Host"/> and <see cref="Port"/>: left at them, they do not conflict with <see cref="Hosts"/>.</summary>
    public const string DefaultHost = "127.0.0.1";

    public const int DefaultPort = 5672;

    /// <summary>The one node to connect to, when <see cref="Hosts"/> is not set.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "RabbitMq:Host is required.")]
    public string Host { get; set; } = DefaultHost;

    [Range(1, 65535, ErrorMessage = "RabbitMq:Port must be between 1 and 65535.")]
    public int Port { get; set; } = DefaultPort;

    /// <summary>
    /// A cluster's nodes, each <c>host:port</c>. When set, it replaces <see cref="Host"/> and <see cref="Port"/>: every
    /// connection (MassTransit's, through its cluster support, and the plain ones) tries the nodes in turn, and a broken
    /// one reconnects to the next. <see cref="Host"/>:<see cref="Port"/>, when not left at their defaults, must be one of them.
    /// </summary>
    public string[] Hosts { get; set; } = [];

    /// <summary>The type of the job, cancel and status queues (and their _error and _skipped queues): <c>classic</c> or <c>quorum</c>.</summary>
    public RabbitMqQueueType QueueType { get; set; } = RabbitMqQueueType.Classic;

    [Required(AllowEmptyStrings = false, ErrorMessage = "RabbitMq:VirtualHost is required.")]
    public string VirtualHost { get; set; } = "/";

    [Required(AllowEmptyStrings = false, ErrorMessage = "RabbitMq:Username is required.")]
    public string Username { get; set; } = "guest";

    /// <summary>Defaults to RabbitMQ's built-in <c>guest</c>, which the broker accepts from loopback only.</summary>
    public string Password { get; set; } = "guest";

    /// <summary>
    /// The longest any publish or send may wait for the broker's confirm. A publish that hits it is treated as failed: an
    /// event is published again later, a dispatched job sent again at a later tick. Nothing waits on the broker longer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "RabbitMq:PublishTimeout must be between 100 ms and 5 min.")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a starting worker waits for the broker before it gives up and exits 3 (unavailable). It serves
    /// <c>/health/live</c> meanwhile, answers not ready on <c>/health/ready</c>, and logs what it waits for. 0 waits for
    /// ever (live, not ready) until the broker answers.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "RabbitMq:StartTimeout must be between 0 (wait for ever) and 7 days.")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The nodes to connect to, in order: <see cref="Hosts"/> when set (validated at start), else <see cref="Host"/>:<see cref="Port"/>.</summary>
    public IReadOnlyList<BrokerNode> Nodes() => BrokerNode.All(Hosts, Host, Port);

    /// <summary>
    /// A plain RabbitMQ.Client connection on these settings, for what MassTransit does not offer (queue depths, removing
    /// bindings, checking queue types): the first node of <see cref="Nodes"/> that answers; no automatic recovery, its
    /// caller replaces it when it breaks. Its callers bound the whole call by <see cref="PublishTimeout"/>, so each node's
    /// attempt gets its share: a node that does not answer at all (down, or behind a firewall) leaves time for the next.
    /// </summary>
    public Task<IConnection> ConnectAsync(string clientName, CancellationToken cancellationToken) =>
        BrokerConnection.ConnectAsync(Nodes(), VirtualHost, Username, Password, PublishTimeout, clientName, cancellationToken);
}
