using System.Net;
using System.Net.Sockets;

namespace JobWorker.Tests;

/// <summary>
/// A port that refuses connections until <see cref="Open"/>, then forwards each to a real service: a broker that is away
/// when a worker starts and answers later, without touching the shared broker.
/// </summary>
internal sealed class LateTcpForwarder(int targetPort) : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, FreePort());
    private readonly CancellationTokenSource _stop = new();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Open()
    {
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = Task.Run(() => ForwardAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        using (var target = new TcpClient())
        {
            try
            {
                await target.ConnectAsync(IPAddress.Loopback, targetPort, _stop.Token);
                await using var inbound = client.GetStream();
                await using var outbound = target.GetStream();
                await Task.WhenAny(inbound.CopyToAsync(outbound, _stop.Token), outbound.CopyToAsync(inbound, _stop.Token));
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
