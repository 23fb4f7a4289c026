using System.Globalization;

namespace JobWorker.Client;

/// <summary>One RabbitMQ node of <c>RabbitMq:Hosts</c>, written <c>host:port</c>.</summary>
internal sealed record BrokerNode(string Host, int Port)
{
    /// <summary>Reads <c>host:port</c>; the error says what is wrong with the entry, for a message that names the key.</summary>
    /// <remarks>
    /// Exactly one ':' because MassTransit's cluster configuration splits on it: an IPv6 literal cannot be written here,
    /// a host name that resolves to one can.
    /// </remarks>
    public static bool TryParse(string? text, out BrokerNode? node, out string error)
    {
        node = null;
        var parts = (text ?? "").Trim().Split(':');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            error = $"'{text}' is not host:port";
            return false;
        }

        if (Uri.CheckHostName(parts[0]) == UriHostNameType.Unknown)
        {
            error = $"'{text}' does not name a valid host";
            return false;
        }

        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            error = $"'{text}' has a port outside 1-65535";
            return false;
        }

        (node, error) = (new BrokerNode(parts[0], port), "");
        return true;
    }

    /// <summary>
    /// The nodes a <c>RabbitMq</c> section names, in order: <paramref name="hosts"/> (<c>RabbitMq:Hosts</c>) when set, else
    /// <paramref name="host"/>:<paramref name="port"/>. An entry that does not parse throws, naming the key; the options'
    /// validators refuse it at start, so only a caller that skipped them sees it.
    /// </summary>
    public static IReadOnlyList<BrokerNode> All(string[] hosts, string host, int port) => hosts.Length == 0
        ? [new BrokerNode(host, port)]
        : [.. hosts.Select(entry => TryParse(entry, out var node, out var error) ? node! : throw new InvalidOperationException($"RabbitMq:Hosts: {error}."))];

    /// <summary>The nodes as an operator writes them: <c>host:port, host:port</c>.</summary>
    public static string Describe(IEnumerable<BrokerNode> nodes) => string.Join(", ", nodes);

    public override string ToString() => $"{Host}:{Port}";
}
