using RabbitMQ.Client;

namespace JobWorker.Client;

/// <summary>Plain RabbitMQ.Client connections, for what MassTransit does not offer (declaring a priority queue, reading queues).</summary>
internal static class BrokerConnection
{
    /// <summary>
    /// A connection to the first of <paramref name="nodes"/> that answers; no automatic recovery, its caller replaces it
    /// when it breaks. Callers bound the whole call by <paramref name="bound"/>, so each node's attempt gets its share: a
    /// node that does not answer at all (down, or behind a firewall) leaves time for the next.
    /// </summary>
    public static Task<IConnection> ConnectAsync(
        IReadOnlyList<BrokerNode> nodes, string virtualHost, string username, string password, TimeSpan bound,
        string clientName, CancellationToken cancellationToken)
    {
        var endpoints = nodes.Select(n => new AmqpTcpEndpoint(n.Host, n.Port)).ToList();
        var factory = new ConnectionFactory
        {
            VirtualHost = virtualHost,
            UserName = username,
            Password = password,
            ClientProvidedName = clientName,
            RequestedConnectionTimeout = bound / endpoints.Count,
            AutomaticRecoveryEnabled = false,
        };
        return factory.CreateConnectionAsync(endpoints, cancellationToken);
    }
}
