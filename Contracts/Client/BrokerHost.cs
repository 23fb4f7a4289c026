using MassTransit;

namespace JobWorker.Client;

/// <summary>How a MassTransit bus reaches the broker's nodes: the client's own bus and the worker's are set up alike.</summary>
internal static class BrokerHost
{
    /// <summary>
    /// The first of <paramref name="nodes"/>, and with more than one node (<c>RabbitMq:Hosts</c>) all of them through
    /// MassTransit's cluster support: each (re)connection takes the next node in turn, so losing one moves the bus to another.
    /// </summary>
    public static void Configure(
        IRabbitMqBusFactoryConfigurator rabbit, IReadOnlyList<BrokerNode> nodes, bool cluster, string virtualHost, string username, string password)
    {
        rabbit.Host(nodes[0].Host, (ushort)nodes[0].Port, virtualHost, host =>
        {
            host.Username(username);
            host.Password(password);
            if (cluster)
            {
                host.UseCluster(members =>
                {
                    foreach (var node in nodes)
                    {
                        members.Node(node.ToString());
                    }
                });
            }
        });
    }
}
