using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>Checks <c>RabbitMq:Hosts</c> entry by entry and against <c>RabbitMq:Host</c>/<c>Port</c>, naming the key and the entry.</summary>
internal sealed class RabbitMqOptionsValidator : IValidateOptions<RabbitMqOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMqOptions options)
    {
        if (!Enum.IsDefined(options.QueueType))
        {
            return ValidateOptionsResult.Fail($"RabbitMq:QueueType must be classic or quorum, not {options.QueueType}.");
        }

        if (options.Hosts.Length == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        var nodes = new List<BrokerNode>();
        foreach (var entry in options.Hosts)
        {
            if (BrokerNode.TryParse(entry, out var node, out var error))
            {
                nodes.Add(node!);
            }
            else
            {
                failures.Add($"RabbitMq:Hosts: {error}; write each node as host:port, e.g. \"rabbit-1:5672\".");
            }
        }

        if (nodes.Count != nodes.Distinct().Count())
        {
            failures.Add("RabbitMq:Hosts lists a node twice.");
        }

        var single = new BrokerNode(options.Host, options.Port);
        var singleLeftAtDefault = options.Host == RabbitMqOptions.DefaultHost && options.Port == RabbitMqOptions.DefaultPort;
        if (failures.Count == 0 && !singleLeftAtDefault && !nodes.Any(n => n.Port == single.Port && string.Equals(n.Host, single.Host, StringComparison.OrdinalIgnoreCase)))
        {
            failures.Add($"RabbitMq:Host and RabbitMq:Port ({single}) are not among RabbitMq:Hosts ({string.Join(", ", options.Hosts)}): "
                + "with Hosts set they are not used. Remove them, or list that node in RabbitMq:Hosts.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
