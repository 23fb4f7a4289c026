using System.Globalization;
using System.Net.Sockets;

namespace JobWorker.Tests;

/// <summary>
/// The three-node RabbitMQ cluster that <c>services.sh up rabbitmq-cluster</c> runs (and <c>make test</c> starts): node 1
/// is the single node every other test uses, nodes 2 and 3 listen on its ports + 100 and + 200, as services.sh derives them.
/// </summary>
internal static class RabbitCluster
{
    public static IReadOnlyList<int> Nodes { get; } = [1, 2, 3];

    public static int AmqpPort(int node) => TestEnvironment.RabbitPort + (node - 1) * 100;

    public static int ManagementPort(int node) => TestEnvironment.RabbitManagementPort + (node - 1) * 100;

    public static string NodeName(int node) => node == 1 ? "jobworker@localhost" : $"jobworker{node}@localhost";

    /// <summary>The number of the node named <paramref name="name"/> (as the management API names it).</summary>
    public static int NodeNumber(string name) => Nodes.Single(n => NodeName(n) == name);

    /// <summary>
    /// <c>RabbitMq:Hosts</c> listing the three nodes, node 2 first, and <c>RabbitMq:QueueType</c>. Clients connect to the
    /// first node that answers, and a quorum queue's leader is the node it was declared through (RabbitMQ's default
    /// client-local locator): so the job queue is led by node 2, and losing its leader leaves node 1, which every other
    /// test uses, alone. Node 1 holds the suite's hundreds of classic queues; after a kill it rebuilds their indices for
    /// more than a minute (seen in CI).
    /// </summary>
    public static Dictionary<string, string?> Settings(string queueType = "quorum")
    {
        var settings = new Dictionary<string, string?> { ["RabbitMq:QueueType"] = queueType };
        int[] order = [2, 3, 1];
        for (var i = 0; i < order.Length; i++)
        {
            settings[$"RabbitMq:Hosts:{i}"] = $"{TestEnvironment.Host}:{AmqpPort(order[i])}";
        }

        return settings;
    }

    /// <summary>Fails with what to run when a node does not answer on its AMQP port.</summary>
    public static async Task RequireAllNodesAsync()
    {
        foreach (var node in Nodes)
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await client.ConnectAsync(TestEnvironment.Host, AmqpPort(node), timeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                Assert.Fail($"RabbitMQ cluster node {node} is not answering on {TestEnvironment.Host}:{AmqpPort(node)}. Start the cluster " +
                            "with `deploy/local/services.sh up rabbitmq-cluster` (or run the suite through `make test`, which does).");
            }
        }
    }

    /// <summary>The node that leads <paramref name="queue"/> (a quorum queue's leader, a classic queue's home), asked of a running node.</summary>
    public static async Task<int> LeaderOfAsync(string queue, int askNode = 1)
    {
        using var rabbit = new RabbitManagement(ManagementPort(askNode));
        return NodeNumber(await rabbit.QueueLeaderAsync(queue));
    }

    /// <summary>
    /// The cluster nodes process <paramref name="pid"/> holds an established AMQP connection to, as the kernel sees it (its
    /// sockets in /proc/PID/fd against /proc/net/tcp): the truth a replica's readiness is checked against.
    /// </summary>
    public static HashSet<int> NodesConnectedFrom(int pid)
    {
        var sockets = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    sockets.Add(target[8..^1]);
                }
            }
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return [];
        }

        var connected = new HashSet<int>();
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            const string established = "01";
            if (fields.Length < 10 || fields[3] != established || !sockets.Contains(fields[9]))
            {
                continue;
            }

            var remotePort = int.Parse(fields[2].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            foreach (var node in Nodes.Where(n => AmqpPort(n) == remotePort))
            {
                connected.Add(node);
            }
        }

        return connected;
    }
}
