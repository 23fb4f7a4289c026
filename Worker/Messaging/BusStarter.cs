using System.Net.Sockets;
using JobWorker.Resilience;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// Starts MassTransit once every hosted service has started, Kestrel's included: a health or dashboard port in use stops
/// the process before the bus consumes a job, and <c>/health/live</c> answers while the bus waits for the broker. While
/// it waits it says, every few seconds, which broker it waits for and why.
/// </summary>
/// <remarks>
/// ASP.NET Core starts its server after the application's own hosted services, and MassTransit's hosted service waits for
/// the broker in its <c>StartAsync</c>: left in place, it held every listener shut until the broker answered.
/// </remarks>
internal sealed partial class BusStarter(
    MassTransitHostedService bus, BusStartState state, IOptions<RabbitMqOptions> rabbit, IOptions<MassTransitHostOptions> host,
    ILogger<BusStarter> logger)
    : IHostedLifecycleService
{
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private bool _started;

    /// <summary>Puts this starter where <c>AddMassTransit</c> registered MassTransit's hosted service, so it stops in the same order.</summary>
    public static void StartAfterListeners(IServiceCollection services)
    {
        services.TryAddSingleton<BusStartState>();
        var index = services.ToList().FindIndex(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(MassTransitHostedService));
        if (index < 0)
        {
            // Without it the bus would never start and readiness would wait for ever: a wiring mistake, said at once.
            throw new InvalidOperationException(
                "MassTransit's hosted service is not registered: call AddMassTransit before BusStarter.StartAfterListeners, "
                + "or check that the MassTransit version still registers MassTransitHostedService.");
        }

        services[index] = ServiceDescriptor.Singleton<IHostedService>(sp => new BusStarter(
            ActivatorUtilities.CreateInstance<MassTransitHostedService>(sp),
            sp.GetRequiredService<BusStartState>(),
            sp.GetRequiredService<IOptions<RabbitMqOptions>>(),
            sp.GetRequiredService<IOptions<MassTransitHostOptions>>(),
            sp.GetRequiredService<ILogger<BusStarter>>()));
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        _started = true;
        state.Wait($"Connecting to RabbitMQ at {Addresses()} (RabbitMq:Host/Port/Hosts).");
        var start = bus.StartAsync(cancellationToken);
        using var waited = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var report = ReportWhileWaitingAsync(waited.Token);
        try
        {
            await start;
            state.Start();
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped (SIGTERM) while waiting for the broker: a stop, not a failure to start. MassTransit reports the
            // cancelled wait as its last connection failure, so the exception's type does not tell.
            LogStoppedWhileWaiting(logger, Addresses(), ExceptionChain.Innermost(e).Message);
        }
        finally
        {
            await waited.CancelAsync();
            await report;
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => _started ? bus.StopAsync(cancellationToken) : Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task ReportWhileWaitingAsync(CancellationToken cancellationToken)
    {
        var timeout = host.Value.StartTimeout;
        var giveUp = timeout is null ? "waiting until it answers (RabbitMq:StartTimeout 0)" : $"giving up after {timeout.Value.TotalSeconds:0} s (RabbitMq:StartTimeout)";
        try
        {
            while (true)
            {
                await Task.Delay(ReportEvery, cancellationToken);
                var reasons = new List<string>();
                foreach (var node in rabbit.Value.Nodes())
                {
                    var reason = await ProbeAsync(node, cancellationToken);
                    reasons.Add($"{node.Host}:{node.Port}: {reason}");
                    LogWaiting(logger, $"{node.Host}:{node.Port}", reason, giveUp);
                }

                state.Wait($"Waiting for RabbitMQ (RabbitMq:Host/Port/Hosts), {giveUp}: {string.Join("; ", reasons)}.");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private string Addresses() => BrokerNode.Describe(rabbit.Value.Nodes());

    /// <summary>Why the node does not take the bus: its TCP answer, which is what an operator can check and fix.</summary>
    private static async Task<string> ProbeAsync(BrokerNode node, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(node.Host, node.Port, timeout.Token);
            return "it accepts connections, but the bus has not connected yet (check RabbitMq:Username, Password and VirtualHost)";
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                _ => e.Message,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {ProbeTimeout.TotalSeconds:0} s";
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped while waiting for RabbitMQ at {Address} ({Reason})")]
    private static partial void LogStoppedWhileWaiting(ILogger logger, string address, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for RabbitMQ at {Address} (RabbitMq:Host/Port/Hosts): {Reason}; retrying, {GiveUp}")]
    private static partial void LogWaiting(ILogger logger, string address, string reason, string giveUp);
}
