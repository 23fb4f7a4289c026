using System.Text.Json;
using JobWorker.Jobs;
using JobWorker.Jobs.Handlers;

namespace JobWorker.Tests.Jobs;

public sealed class DelayJobHandlerTests
{
    [TestCase("""{"ms": 250}""", 250, 250)]
    [TestCase("""{"minMs": 50, "maxMs": 500}""", 50, 500)]
    [TestCase("""{"minMs": 7, "maxMs": 7}""", 7, 7)]
    public void The_delay_is_read_from_the_payload(string payload, int min, int max)
    {
        var ms = DelayJobHandler.ReadDelay(JsonSerializer.Deserialize<JsonElement>(payload));

        Assert.That(ms, Is.InRange(min, max));
    }

    [TestCase("[]", "payload must be an object")]
    [TestCase("{}", "needs \"ms\", or both \"minMs\" and \"maxMs\"")]
    [TestCase("""{"ms": 1.5}""", "\"ms\" must be a whole number")]
    [TestCase("""{"ms": -1}""", "\"ms\" must be a whole number")]
    [TestCase("""{"minMs": 9, "maxMs": 3}""", "minMs (9) is greater than maxMs (3)")]
    public void A_bad_payload_is_rejected_with_a_reason(string payload, string reason)
    {
        var error = Assert.Throws<InvalidJobPayloadException>(() => DelayJobHandler.ReadDelay(JsonSerializer.Deserialize<JsonElement>(payload)));

        Assert.That(error!.Message, Does.Contain(reason));
    }
}
