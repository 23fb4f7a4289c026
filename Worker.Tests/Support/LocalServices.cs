using System.Diagnostics;

namespace JobWorker.Tests;

/// <summary>Stops, starts and restarts the local PostgreSQL and RabbitMQ through deploy/local/services.sh, for outage tests.</summary>
internal static class LocalServices
{
    private static readonly string Script = FindScript();

    public static Task RestartAsync(string service) => RunAsync("restart", service);

    public static Task StopAsync(string service) => RunAsync("down", service);

    public static Task StartAsync(string service) => RunAsync("up", service);

    /// <summary>Stops RabbitMQ cluster node <paramref name="node"/> (rabbitmqctl stop).</summary>
    public static Task StopNodeAsync(int node) => RunAsync("node-stop", node.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>SIGKILLs RabbitMQ cluster node <paramref name="node"/>'s Erlang VM, as a crash would.</summary>
    public static Task KillNodeAsync(int node) => RunAsync("node-kill", node.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Starts RabbitMQ cluster node <paramref name="node"/> and waits (bounded) until it serves again.</summary>
    public static Task StartNodeAsync(int node) => RunAsync("node-start", node.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Sets the broker's <c>consumer_timeout</c> (RabbitMQ closes the channel of a delivery left unacknowledged longer) and
    /// how often a channel checks it (<c>channel_tick_interval</c>, 60 s by default: a test shorter than a minute would never
    /// see the check); both apply to channels opened afterwards.
    /// </summary>
    public static Task SetConsumerTimeoutAsync(TimeSpan timeout, TimeSpan checkEvery) =>
        RunAsync("rabbitmqctl", "eval",
            $"application:set_env(rabbit, consumer_timeout, {(long)timeout.TotalMilliseconds}), " +
            $"application:set_env(rabbit, channel_tick_interval, {(long)checkEvery.TotalMilliseconds}).");

    private static async Task RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"services.sh {string.Join(' ', args)} did not finish within 120 s:\n{await output}\n{await errors}");
        }

        Assert.That(process.ExitCode, Is.Zero, $"services.sh {string.Join(' ', args)} failed:\n{await output}\n{await errors}");
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "local", "services.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("deploy/local/services.sh not found above " + AppContext.BaseDirectory);
    }
}
