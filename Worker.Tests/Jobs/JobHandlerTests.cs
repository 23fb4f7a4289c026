using System.Text.Json;
using System.Text.Json.Serialization;
using JobWorker.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Jobs;

/// <summary>The typed handler bases: the payload bound to a type, a payload that does not bind named by its field, the result stored as JSON.</summary>
public sealed class JobHandlerTests
{
    private const string JobType = "sales";

    private sealed record Window(DateOnly From, DateOnly To);

    private sealed record SalesRequest(string Region, int Days = 30, IReadOnlyList<string>? Tags = null, Window? Window = null);

    private sealed record SalesResult(string Region, int Rows);

    private sealed class SalesHandler : JobHandler<SalesRequest, SalesResult>
    {
        public SalesRequest? Seen { get; private set; }

        protected override Task<SalesResult> RunAsync(SalesRequest payload, JobRun job, CancellationToken cancellationToken)
        {
            Seen = payload;
            return Task.FromResult(new SalesResult(payload.Region, payload.Days));
        }
    }

    private sealed class Digest
    {
        public required string Mailbox { get; init; }

        [JsonRequired]
        public int Days { get; init; }
    }

    private sealed class DigestHandler : JobHandler<Digest>
    {
        public Digest? Seen { get; private set; }

        protected override Task RunAsync(Digest payload, JobRun job, CancellationToken cancellationToken)
        {
            Seen = payload;
            return Task.CompletedTask;
        }
    }

    private static JobRun Run(string payload) => new(Guid.NewGuid(), JobType, JsonDocument.Parse(payload).RootElement.Clone(), 1, 3, null);

    [Test]
    public async Task Typed_handler_binds_the_payload_and_stores_its_result_as_camel_case_json()
    {
        var handler = new SalesHandler();

        var result = await handler.RunAsync(Run("""{"REGION": "emea", "days": 3, "tags": ["q4"], "window": {"from": "2026-10-01", "to": "2026-12-31"}}"""), CancellationToken.None);

        Assert.That(handler.Seen, Is.Not.Null);
        Assert.That(handler.Seen!.Region, Is.EqualTo("emea"));
        Assert.That(handler.Seen.Days, Is.EqualTo(3));
        Assert.That(handler.Seen.Tags, Is.EqualTo(new[] { "q4" }));
        Assert.That(handler.Seen.Window, Is.EqualTo(new Window(new DateOnly(2026, 10, 1), new DateOnly(2026, 12, 31))));
        Assert.That(result?.GetRawText(), Is.EqualTo("""{"region":"emea","rows":3}"""));
    }

    [Test]
    public async Task Typed_handler_without_a_result_stores_none_and_takes_a_parameter_default()
    {
        var handler = new SalesHandler();
        var digest = new DigestHandler();

        await handler.RunAsync(Run("""{"region": "apac"}"""), CancellationToken.None);
        var result = await digest.RunAsync(Run("""{"mailbox": "ops", "days": 7}"""), CancellationToken.None);

        Assert.That(handler.Seen?.Days, Is.EqualTo(30));
        Assert.That(digest.Seen?.Mailbox, Is.EqualTo("ops"));
        Assert.That(result, Is.Null);
    }

    [TestCase("""{"region": "emea", "days": "30"}""", "payload field $.days: expected a number, got a string")]
    [TestCase("""{"region": "emea", "days": 1.5}""", "payload field $.days: expected a whole number from -2147483648 to 2147483647, got 1.5")]
    [TestCase("""{"region": 7}""", "payload field $.region: expected a string, got a number")]
    [TestCase("""{"days": 3}""", "payload field $.region: expected a string, got nothing (the field is missing)")]
    [TestCase("""{"region": null}""", "payload field $.region: expected a string, got null")]
    [TestCase("""{"region": "emea", "tags": ["q4", 4]}""", "payload field $.tags[1]: expected a string, got a number")]
    [TestCase("""{"region": "emea", "tags": "q4"}""", "payload field $.tags: expected an array, got a string")]
    [TestCase("""{"region": "emea", "window": {"from": "2026-10-01", "to": "end of year"}}""",
        "payload field $.window.to: expected a date such as \"2026-12-31\", got \"end of year\"")]
    [TestCase("""{"region": "emea", "window": {"from": "2026-10-01"}}""", "payload field $.window.to: expected a date such as \"2026-12-31\", got nothing (the field is missing)")]
    [TestCase("null", "payload: expected an object, got null")]
    [TestCase("[1, 2]", "payload: expected an object, got an array")]
    public void Typed_handler_names_the_field_when_the_payload_does_not_bind(string payload, string error)
    {
        var handler = new SalesHandler();

        var thrown = Assert.ThrowsAsync<InvalidJobPayloadException>(() => handler.RunAsync(Run(payload), CancellationToken.None));

        Assert.That(thrown!.Message, Is.EqualTo($"{JobType}: {error}"));
        Assert.That(handler.Seen, Is.Null, "the handler never ran");
    }

    [TestCase("""{"days": 7}""", "payload field $.mailbox: expected a string, got nothing (the field is missing)")]
    [TestCase("""{"mailbox": "ops"}""", "payload field $.days: expected a number, got nothing (the field is missing)")]
    public void Typed_handler_names_a_missing_required_member(string payload, string error)
    {
        var thrown = Assert.ThrowsAsync<InvalidJobPayloadException>(() => new DigestHandler().RunAsync(Run(payload), CancellationToken.None));

        Assert.That(thrown!.Message, Is.EqualTo($"{JobType}: {error}"));
    }

    private sealed class RawHandler : JobHandler<JsonElement>
    {
        protected override Task RunAsync(JsonElement payload, JobRun job, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Test, Description("No field is to blame (the payload is nested too deep): the parser's own words, still as an invalid payload.")]
    public void Typed_handler_gives_the_parsers_reason_when_no_field_is_to_blame()
    {
        var deep = new string('[', 70) + new string(']', 70);
        var job = new JobRun(Guid.NewGuid(), JobType, JsonDocument.Parse(deep, new JsonDocumentOptions { MaxDepth = 100 }).RootElement.Clone(), 1, 3, null);

        var thrown = Assert.ThrowsAsync<InvalidJobPayloadException>(() => new RawHandler().RunAsync(job, CancellationToken.None));

        Assert.That(thrown!.Message, Does.StartWith($"{JobType}: payload does not bind to JsonElement: ").And.Contain("depth"));
    }

    [Test]
    public void Typed_handler_is_registered_as_any_handler()
    {
        using var services = new ServiceCollection().AddJobHandler<SalesHandler>(JobType).BuildServiceProvider();
        using var scope = services.CreateScope();

        Assert.That(scope.ServiceProvider.GetRequiredKeyedService<IJobHandler>(JobType), Is.InstanceOf<SalesHandler>());
    }
}
