using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Tests;

/// <summary>The job consumers on MassTransit's in-memory test harness, with the real job store underneath.</summary>
internal sealed class ConsumerHarness : IAsyncDisposable
{
    private readonly IHost _host;

    private ConsumerHarness(IHost host, ITestHarness harness)
    {
        _host = host;
        Harness = harness;
    }

    public ITestHarness Harness { get; }
    public HandlerRuns Runs => _host.Services.GetRequiredService<HandlerRuns>();

    public static async Task<ConsumerHarness> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var configuration = TestWorker.Overlay(TestWorker.TestSettings(TestWorker.UniqueQueue()), settings);

        var builder = JobWorkerHost.CreateBuilder(quiet: true, b => b.Configuration.AddInMemoryCollection(configuration));
        builder.AddJobPersistence(_ => "jobworker-harness");
        builder.AddJobProcessing();
        builder.Services.AddSingleton<HandlerRuns>();
        new JobWorkerBuilder(builder).AddBuiltInHandlers().AddJobHandler<RecordingJobHandler>(RecordingJobHandler.JobType);
        builder.Services.AddOptions<RabbitMqOptions>();
        builder.Services.AddSingleton<IJobBroker, MassTransitJobBroker>();
        builder.Services.AddMassTransitTestHarness(MessagingHostBuilderExtensions.AddJobConsumers);
        builder.Services.Configure<TestHarnessOptions>(o => o.TestTimeout = TimeSpan.FromSeconds(20));

        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);
        return new ConsumerHarness(host, host.Services.GetTestHarness());
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
    }
}
