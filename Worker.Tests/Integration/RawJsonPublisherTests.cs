using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using RabbitMQ.Client;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>A publisher that is not .NET sends a bare SubmitJob as <c>application/json</c>, as the README shows.</summary>
public sealed class RawJsonPublisherTests
{
    [Test]
    public async Task A_plain_json_body_published_over_amqp_is_run()
    {
        await using var worker = await TestWorker.StartAsync();
        var jobId = Guid.NewGuid();
        var body = $$"""{"jobId": "{{jobId}}", "jobType": "delay", "payload": {"ms": 10}, "maxAttempts": 2, "timeout": "00:00:30"}""";

        var factory = new ConnectionFactory { HostName = TestEnvironment.Host, Port = TestEnvironment.RabbitPort };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
            await channel.BasicPublishAsync(worker.Queue, routingKey: "", mandatory: true, properties, Encoding.UTF8.GetBytes(body));
        }

        var job = await TestJobs.WaitForStateAsync(jobId, JobState.Succeeded, TimeSpan.FromSeconds(30));
        Assert.That(job.MaxAttempts, Is.EqualTo(2));
        Assert.That(job.Timeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(job.Result, Is.EqualTo("""{"sleptMs": 10}"""));
    }

    [Test]
    public async Task The_readme_curl_example_through_the_management_api_is_run()
    {
        await using var worker = await TestWorker.StartAsync();
        var jobId = Guid.NewGuid();
        using var http = new HttpClient { BaseAddress = new Uri($"http://{TestEnvironment.Host}:{TestEnvironment.RabbitManagementPort}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));

        var response = await http.PostAsJsonAsync($"/api/exchanges/%2F/{worker.Queue}/publish", new
        {
            properties = new { content_type = "application/json", delivery_mode = 2 },
            routing_key = "",
            payload = $$$"""{"jobId": "{{{jobId}}}", "jobType": "noop", "payload": {}}""",
            payload_encoding = "string",
        });

        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("\"routed\":true"));
        await TestJobs.WaitForStateAsync(jobId, JobState.Succeeded, TimeSpan.FromSeconds(30));
    }

    [Test, Description("The README's continuation in plain JSON: \"after\" lists the parents, \"afterAny\" the policy.")]
    public async Task A_plain_json_continuation_waits_for_its_parent()
    {
        await using var worker = await TestWorker.StartAsync(new() { ["Continuations:Interval"] = "00:00:00.100" });
        var parentId = Guid.NewGuid();
        var childId = Guid.NewGuid();
        var child = $$"""{"jobId": "{{childId}}", "jobType": "noop", "payload": {}, "after": ["{{parentId}}"], "afterAny": true}""";
        var parent = $$$"""{"jobId": "{{{parentId}}}", "jobType": "delay", "payload": {"ms": 10}}""";

        var factory = new ConnectionFactory { HostName = TestEnvironment.Host, Port = TestEnvironment.RabbitPort };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
        await channel.BasicPublishAsync(worker.Queue, routingKey: "", mandatory: true, properties, Encoding.UTF8.GetBytes(child));
        var held = await TestJobs.WaitForStateAsync(childId, JobState.Awaiting, TimeSpan.FromSeconds(30));
        await channel.BasicPublishAsync(worker.Queue, routingKey: "", mandatory: true, properties, Encoding.UTF8.GetBytes(parent));
        await TestJobs.WaitForStateAsync(childId, JobState.Succeeded, TimeSpan.FromSeconds(30));

        Assert.That(held.AfterAny, Is.True);
        Assert.That((await TestJobs.Store.ParentsAsync(childId, CancellationToken.None)).Select(p => p.Id), Is.EqualTo(new[] { parentId }));
    }
}
