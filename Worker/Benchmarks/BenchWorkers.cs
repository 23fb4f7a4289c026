using JobWorker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using System.Reflection;

namespace JobWorker.Benchmarks;

/// <summary>Worker replicas for a benchmark: the real <c>run</c>, each in a process of its own.</summary>
internal sealed class BenchWorkers : IAsyncDisposable
{
    private readonly List<WorkerProcess> _processes = [];

    /// <summary>
    /// A worker in the bench's own process, composed as the stock <c>run</c> composes it, with <paramref name="settings"/>
    /// on top: the built-in handlers are the job types the scenarios submit (noop, delay).
    /// </summary>
    public static WebApplication InProcess(Dictionary<string, string?> settings) =>
        JobWorkerHost.BuildWorker(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.AddJobWorker().AddBuiltInHandlers();
        });

    /// <summary>
    /// Starts <paramref name="count"/> replicas of this executable's <c>run</c> (the stock <c>jobworker</c> or a team's
    /// own host), one after another, each ready (its <c>/health/ready</c> answers 200) before the next.
    /// </summary>
    public static async Task<BenchWorkers> StartAsync(int count, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var workers = new BenchWorkers();
        var executable = Assembly.GetEntryAssembly()!.Location;
        var environment = settings.ToDictionary(s => s.Key, s => (string?)s.Value);
        try
        {
            for (var i = 0; i < count; i++)
            {
                workers._processes.Add(await WorkerProcess.StartReplicaAsync(executable, environment, TimeSpan.FromSeconds(60), cancellationToken));
            }
        }
        catch
        {
            await workers.DisposeAsync();
            throw;
        }

        return workers;
    }

    /// <summary>CPU seconds the workers have used so far, together.</summary>
    public double CpuSeconds => _processes.Sum(p => BenchMath.CpuSeconds(p.Id));

    /// <summary>The highest peak resident set among the workers, in MB.</summary>
    public double PeakWorkingSetMb => _processes.Max(p => BenchMath.PeakWorkingSetMb(p.Id));

    public async ValueTask DisposeAsync()
    {
        // The figures are taken; nothing the replicas still do is measured, so they need no drain.
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.DisposeAsync();
        }
    }
}
