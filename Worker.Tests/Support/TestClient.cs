using JobWorker.Contracts;
using JobWorker.Hosting;
using JobWorker.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Tests;

/// <summary>A publisher's bus with no consumers: what another service uses to submit jobs.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private readonly IHost _host;

    private TestClient(IHost host) => _host = host;

    /// <summary>Every JobSucceeded and JobFailed published while this client runs.</summary>
    public JobEvents Events => _host.Services.GetRequiredService<JobEvents>();

    public static async Task<TestClient> StartAsync()
    {
        var builder = JobWorkerHost.CreateBuilder(quiet: true, b => b.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?>
            {
                ["RabbitMq:Host"] = TestEnvironment.Host,
                ["RabbitMq:Port"] = TestEnvironment.RabbitPort.ToString(),
            }));
        builder.AddJobMessaging(consumeJobs: false);
        builder.Services.AddSingleton<JobEvents>();
        builder.Services.AddMassTransit<IEventBus>(bus =>
        {
            bus.AddConsumer<JobEvents.Recorder>().Endpoint(e => e.Temporary = true);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(TestEnvironment.Host, (ushort)TestEnvironment.RabbitPort, "/", h => { });
                rabbit.ConfigureEndpoints(context);
            });
        });
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return new TestClient(host);
    }

    public async Task SendAsync(string queue, IEnumerable<SubmitJob> jobs)
    {
        var endpoint = await _host.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(new Uri($"queue:{queue}"));
        foreach (var chunk in jobs.Chunk(100))
        {
            await Task.WhenAll(chunk.Select(job => endpoint.Send(job)));
        }
    }

    public Task PublishAsync<T>(T message) where T : class =>
        _host.Services.GetRequiredService<IBus>().Publish(message);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
    }
}

/// <summary>A second bus in the test client, for the event recorder's temporary queue.</summary>
public interface IEventBus : IBus;
