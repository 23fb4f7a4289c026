using JobWorker.Contracts;
using JobWorker.Hosting;
using JobWorker.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Tests;

/// <summary>
/// A publisher's bus for one deployment (one <c>Jobs:QueueName</c>), with no consumers: what a JobWorker tool (the CLI,
/// the dashboard) or another service uses to submit jobs. Its second bus records that deployment's job events on a
/// durable queue of its own, so events published while the broker restarts still arrive; the queue is deleted at the end.
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _eventsQueue;

    private TestClient(IHost host, string eventsQueue) => (_host, _eventsQueue) = (host, eventsQueue);

    /// <summary>Every job event published while this client runs.</summary>
    public JobEvents Events => _host.Services.GetRequiredService<JobEvents>();

    /// <summary>
    /// A client of the deployment on <paramref name="queue"/>, with <paramref name="settings"/> on top of the test ones.
    /// With <c>RabbitMq:Hosts</c> and <c>RabbitMq:QueueType</c> among them, the events bus reaches the same cluster and its
    /// queue is of that type (a quorum queue outlives the loss of a node).
    /// </summary>
    public static async Task<TestClient> StartAsync(string queue, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var eventsQueue = $"jw-test-events-{Guid.NewGuid():N}"[..28];
        var cluster = (settings ?? new Dictionary<string, string?>()).Where(s => s.Key.StartsWith("RabbitMq:Hosts:", StringComparison.Ordinal))
            .OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value!).ToList();
        var quorum = settings?.GetValueOrDefault("RabbitMq:QueueType") == "quorum";
        var builder = JobWorkerHost.CreateBuilder(quiet: true, b => b.Configuration.AddInMemoryCollection(TestWorker.Overlay(
            new Dictionary<string, string?>
            {
                ["RabbitMq:Host"] = TestEnvironment.Host,
                ["RabbitMq:Port"] = TestEnvironment.RabbitPort.ToString(),
                ["Jobs:QueueName"] = queue,
            }, settings)));
        builder.AddJobMessaging(consumeJobs: false);
        builder.Services.AddSingleton<JobEvents>();
        builder.Services.AddMassTransit<IEventBus>(bus =>
        {
            bus.AddConsumer<JobEvents.Recorder>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(TestEnvironment.Host, (ushort)TestEnvironment.RabbitPort, "/", h =>
                {
                    if (cluster.Count > 0)
                    {
                        h.UseCluster(c => cluster.ForEach(c.Node));
                    }
                });

                // A subscriber to one deployment, as the README shows: its queue bound to that deployment's event exchanges only.
                rabbit.ReceiveEndpoint(eventsQueue, endpoint =>
                {
                    endpoint.ConfigureConsumeTopology = false;
                    if (quorum)
                    {
                        endpoint.SetQuorumQueue();
                    }

                    foreach (var type in new[] { "JobStarted", "JobSucceeded", "JobFailed", "JobCancelled" })
                    {
                        endpoint.Bind($"{queue}:JobWorker.Contracts:{type}");
                    }

                    endpoint.ConfigureConsumer<JobEvents.Recorder>(context);
                });
            });
        });
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return new TestClient(host, eventsQueue);
    }

    public async Task SendAsync(string queue, IEnumerable<SubmitJob> jobs)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var rabbit = _host.Services.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
        var address = await DurableQueues.JobsSendAddressAsync(queue, rabbit, timeout.Token);
        var endpoint = await _host.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(address);
        foreach (var chunk in jobs.Chunk(100))
        {
            await Task.WhenAll(chunk.Select(job => endpoint.Send(job, context =>
            {
                DurableQueues.Priority(context, job.Priority);
                DurableQueues.Mandatory(context);
            }, timeout.Token)));
        }
    }

    public async Task PublishAsync<T>(T message) where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.Services.GetRequiredService<IBus>().Publish(message, timeout.Token);
    }

    /// <summary>Asks for a job's state the way a MassTransit service does by default: a published request.</summary>
    public async Task<JobStatus> RequestStatusAsync(Guid jobId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var client = _host.Services.GetRequiredService<IBus>().CreateRequestClient<GetJobStatus>(RequestTimeout.After(s: 20));
        var response = await client.GetResponse<JobStatus>(new GetJobStatus { JobId = jobId }, timeout.Token);
        return response.Message;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
        using var rabbit = new RabbitManagement();
        await rabbit.DeleteQueueAsync(_eventsQueue);
    }
}

/// <summary>A second bus in the test client, for the event recorder's queue.</summary>
/// <summary>A second bus for the test client (MassTransit generates its implementation, so the interface is public).</summary>
public interface IEventBus : IBus;
