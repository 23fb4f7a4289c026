using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace JobWorker.Tests;

/// <summary>
/// The real <c>jobworker</c> executable in a process of its own (a replica), configured through environment
/// variables exactly as a container would be. Output is captured for assertions and failure messages.
/// </summary>
public sealed partial class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process) => _process = process;

    public int Id => _process.Id;
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

        var worker = new WorkerProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        worker._process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.Start();
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Starts a worker replica on <paramref name="queue"/> and waits (bounded) until it consumes.</summary>
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
            () => Task.FromResult(worker.Output.Contains("consuming queue", StringComparison.Ordinal) || worker.HasExited),
            ready => ready, TimeSpan.FromSeconds(60), "the worker process to start consuming");
        Assert.That(worker.HasExited, Is.False, $"the worker exited during start-up:\n{worker.Output}");
        return worker;
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
