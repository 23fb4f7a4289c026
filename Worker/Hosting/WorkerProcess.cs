using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace JobWorker.Hosting;

/// <summary>
/// A <c>jobworker</c> executable (the stock one or a team's own host) in a process of its own, configured through
/// environment variables exactly as a container would be, its output captured. A replica counts as started when its
/// <c>/health/ready</c> answers 200. The bench and the tests start replicas with it.
/// </summary>
internal sealed partial class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _health;

    private WorkerProcess(Process process, int healthPort)
    {
        _process = process;
        HealthPort = healthPort;
        _health = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}"), Timeout = TimeSpan.FromSeconds(5) };
    }

    public int Id => _process.Id;

    /// <summary>The port of this process's <c>/health/live</c> and <c>/health/ready</c>.</summary>
    public int HealthPort { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <c>dotnet <paramref name="assembly"/> ARGS</c> with <paramref name="settings"/> as <c>Section__Key</c>
    /// environment variables. <c>Health:Port</c> 0 or absent gets a free port, so the process can be asked.
    /// </summary>
    public static WorkerProcess Start(string assembly, IReadOnlyDictionary<string, string?> settings, params string[] args)
    {
        // A known port: the one given, or a free one for 0 (any); a setting that is no port at all is passed on as it
        // is, for the worker to refuse.
        var configured = settings.GetValueOrDefault("Health:Port");
        var valid = int.TryParse(configured, out var port) && port is >= 0 and <= 65535;
        var healthPort = valid && port > 0 ? port : FreePort();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Health__Port"] = valid || configured is null ? healthPort.ToString() : configured;
        var worker = new WorkerProcess(new Process { StartInfo = start, EnableRaisingEvents = true }, healthPort);
        worker._process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.Start();
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Starts <c>run</c> and waits, at most <paramref name="timeout"/>, until <c>/health/ready</c> answers 200.</summary>
    /// <exception cref="InvalidOperationException">The process exited, or was not ready in time; the message holds its output.</exception>
    public static async Task<WorkerProcess> StartReplicaAsync(
        string assembly, IReadOnlyDictionary<string, string?> settings, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var worker = Start(assembly, settings, "run");
        try
        {
            await worker.WaitUntilReadyAsync(timeout, cancellationToken);
            return worker;
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>/health/ready</c> until it answers 200, the process exits, or <paramref name="timeout"/> passes.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        while (!await IsReadyAsync())
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"the worker exited ({ExitCode}) during start-up:\n{Output}");
            }

            if (deadline.Elapsed > timeout)
            {
                throw new InvalidOperationException($"the worker was not ready within {timeout}:\n{Output}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>True when <c>/health/ready</c> answers 200.</summary>
    public async Task<bool> IsReadyAsync()
    {
        try
        {
            using var response = await _health.GetAsync("/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>What <c>/health/ready</c> answers (status code and body), for a failure message.</summary>
    public async Task<string> ReadinessReportAsync()
    {
        try
        {
            using var response = await _health.GetAsync("/health/ready");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $"no answer: {e.Message}";
        }
    }

    /// <summary>The job slots <c>/health/live</c> reports: in use, and deliveries waiting for one.</summary>
    public async Task<(int Busy, int Waiting, bool Live)> SlotsAsync()
    {
        using var response = await _health.GetAsync("/health/live");
        var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var slots = report.GetProperty("checks").GetProperty("slots").GetProperty("data");
        return (slots.GetProperty("busy").GetInt32(), slots.GetProperty("waiting").GetInt32(), response.IsSuccessStatusCode);
    }

    /// <summary>Waits, at most <paramref name="timeout"/>, for the process to exit and returns its exit code.</summary>
    /// <exception cref="TimeoutException">It did not exit in time; the message holds its output.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Path.GetFileName(_process.StartInfo.ArgumentList[0])} did not exit within {timeout}; output:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Asks the process to stop, as a container runtime does (SIGTERM).</summary>
    public void Terminate() => _ = kill(_process.Id, 15);

    public void Kill() => _process.Kill(entireProcessTree: true);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Stops the process as a container runtime would: SIGTERM, then a kill after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        _health.Dispose();
        if (!_process.HasExited)
        {
            Terminate();
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Kill();
                await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            }
        }

        _process.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
