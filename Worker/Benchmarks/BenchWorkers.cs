using JobWorker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using System.Diagnostics;

namespace JobWorker.Benchmarks;

/// <summary>Worker replicas for a benchmark: the real <c>jobworker run</c>, each in a process of its own.</summary>
internal sealed class BenchWorkers : IAsyncDisposable
{
    private readonly List<Process> _processes = [];

    /// <summary>
    /// A worker in the bench's own process, composed as <c>run</c> composes it, with <paramref name="settings"/> on top
    /// and the built-in handlers the scenarios submit (noop, delay).
    /// </summary>
    public static WebApplication InProcess(Action<IHostApplicationBuilder> configureWorker, Dictionary<string, string?> settings) =>
        JobWorkerHost.BuildWorker(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            configureWorker(builder);
            builder.AddJobWorker().AddBuiltInHandlers();
        });

    public static async Task<BenchWorkers> StartAsync(int count, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var workers = new BenchWorkers();
        for (var i = 0; i < count; i++)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "jobworker.dll"));
            start.ArgumentList.Add("run");
            foreach (var (key, value) in settings)
            {
                start.Environment[key] = value;
            }

            var process = Process.Start(start)!;
            workers._processes.Add(process);
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("consuming queue", StringComparison.Ordinal) == true)
                {
                    ready.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }

        return workers;
    }

    /// <summary>CPU seconds the workers have used so far, together.</summary>
    public double CpuSeconds => _processes.Sum(p => BenchMath.CpuSeconds(p.Id));

    /// <summary>The highest peak resident set among the workers, in MB.</summary>
    public double PeakWorkingSetMb => _processes.Max(p => BenchMath.PeakWorkingSetMb(p.Id));

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
        }
    }
}
