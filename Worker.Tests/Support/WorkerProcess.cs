using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace JobWorker.Tests;

/// <summary>
/// The real <c>jobworker</c> executable in a process of its own (a replica), configured through environment
/// variables exactly as a container would be. Output is captured for assertions and failure messages.
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

    public static string Executable => Path.Combine(AppContext.BaseDirectory, "jobworker.dll");

    /// <summary>Starts <c>jobworker ARGS</c> with <paramref name="settings"/> as <c>Section__Key</c> environment variables.</summary>
    public static WorkerProcess Start(IReadOnlyDictionary<string, string?> settings, params string[] args)
    {
        // A known port, so /health can be asked: the one given, or a free one for 0 (any); a setting that is no port
        // at all is passed on as it is, for the worker to refuse.
        var configured = settings.GetValueOrDefault("Health:Port");
        var valid = int.TryParse(configured, out var port) && port is >= 0 and <= 65535;
        var healthPort = valid && port > 0 ? port : FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Executable);
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

    /// <summary>Starts a worker replica on <paramref name="queue"/> and waits (bounded) until <c>/health/ready</c> says it is ready.</summary>
    public static async Task<WorkerProcess> StartWorkerAsync(string queue, Dictionary<string, string?>? settings = null)
    {
        var configuration = TestWorker.TestSettings(queue);
        configuration["Logging:LogLevel:Default"] = "Information";
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        var worker = Start(configuration, "run");
        await Eventually.WaitForAsync(
            async () => worker.HasExited || await worker.IsReadyAsync(),
            ready => ready, TimeSpan.FromSeconds(60), "the worker process to be ready");
        Assert.That(worker.HasExited, Is.False, $"the worker exited during start-up:\n{worker.Output}");
        return worker;
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

    /// <summary>The job slots <c>/health/live</c> reports: in use, and deliveries waiting for one.</summary>
    public async Task<(int Busy, int Waiting, bool Live)> SlotsAsync()
    {
        using var response = await _health.GetAsync("/health/live");
        var report = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var slots = report.GetProperty("checks").GetProperty("slots").GetProperty("data");
        return (slots.GetProperty("busy").GetInt32(), slots.GetProperty("waiting").GetInt32(), response.IsSuccessStatusCode);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits (bounded) for the process to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"jobworker did not exit within {timeout}; output:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Asks the process to stop, as a container runtime does (SIGTERM).</summary>
    public void Terminate() => _ = kill(_process.Id, 15);

    public void Kill() => _process.Kill(entireProcessTree: true);

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
            }
        }

        _process.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
