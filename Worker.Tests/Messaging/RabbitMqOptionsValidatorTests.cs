using JobWorker.Messaging;

namespace JobWorker.Tests.Messaging;

public sealed class RabbitMqOptionsValidatorTests
{
    private static readonly RabbitMqOptionsValidator Validator = new();

    private static string[] Failures(RabbitMqOptions options) =>
        [.. Validator.Validate(null, options).Failures ?? []];

    [Test]
    public void Validator_accepts_the_defaults() =>
        Assert.That(Failures(new RabbitMqOptions()), Is.Empty);

    [Test]
    public void Validator_accepts_three_nodes_beside_a_default_host_and_port() =>
        Assert.That(Failures(new RabbitMqOptions { Hosts = ["127.0.0.1:35672", "127.0.0.1:35772", "rabbit-3:35872"] }), Is.Empty);

    [Test, Description("An upgrade that adds Hosts beside the old Host and Port keeps working when that node is listed.")]
    public void Validator_accepts_a_host_and_port_that_are_among_the_nodes() =>
        Assert.That(Failures(new RabbitMqOptions { Host = "Rabbit-1", Port = 5673, Hosts = ["rabbit-1:5673", "rabbit-2:5673"] }), Is.Empty);

    [TestCase("rabbit-1", "'rabbit-1' is not host:port")]
    [TestCase("rabbit-1:", "'rabbit-1:' is not host:port")]
    [TestCase(":5672", "':5672' is not host:port")]
    [TestCase("a:b:5672", "'a:b:5672' is not host:port")]
    [TestCase("rabbit 1:5672", "'rabbit 1:5672' does not name a valid host")]
    [TestCase("rabbit-1:0", "'rabbit-1:0' has a port outside 1-65535")]
    [TestCase("rabbit-1:65536", "'rabbit-1:65536' has a port outside 1-65535")]
    [TestCase("rabbit-1:-1", "'rabbit-1:-1' has a port outside 1-65535")]
    [TestCase("rabbit-1:http", "'rabbit-1:http' has a port outside 1-65535")]
    public void Validator_names_a_bad_node_entry(string entry, string error) =>
        Assert.That(Failures(new RabbitMqOptions { Hosts = ["rabbit-0:5672", entry] }),
            Is.EqualTo(new[] { $"RabbitMq:Hosts: {error}; write each node as host:port, e.g. \"rabbit-1:5672\"." }));

    [Test]
    public void Validator_refuses_a_node_listed_twice() =>
        Assert.That(Failures(new RabbitMqOptions { Hosts = ["rabbit-1:5672", "rabbit-1:5672"] }), Is.EqualTo(new[] { "RabbitMq:Hosts lists a node twice." }));

    [Test]
    public void Validator_refuses_a_host_and_port_that_are_not_among_the_nodes() =>
        Assert.That(Failures(new RabbitMqOptions { Host = "old-rabbit", Port = 5672, Hosts = ["rabbit-1:5672", "rabbit-2:5672"] }),
            Has.One.StartsWith("RabbitMq:Host and RabbitMq:Port (old-rabbit:5672) are not among RabbitMq:Hosts (rabbit-1:5672, rabbit-2:5672)"));

    [Test]
    public void Validator_refuses_a_queue_type_that_is_not_classic_or_quorum() =>
        Assert.That(Failures(new RabbitMqOptions { QueueType = (RabbitMqQueueType)7 }), Has.One.StartsWith("RabbitMq:QueueType must be classic or quorum"));

    [Test]
    public void Nodes_are_the_hosts_in_order_when_set_else_host_and_port()
    {
        Assert.That(new RabbitMqOptions { Host = "solo", Port = 5673 }.Nodes(), Is.EqualTo(new[] { new BrokerNode("solo", 5673) }));
        Assert.That(new RabbitMqOptions { Hosts = ["b:2", "a:1"] }.Nodes(), Is.EqualTo(new[] { new BrokerNode("b", 2), new BrokerNode("a", 1) }));
    }
}
