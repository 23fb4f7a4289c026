using System.Diagnostics;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Spectre.Console;

namespace JobWorker.Cli;

/// <summary>Follows a batch of jobs in the store: a progress line a second, then a summary of states, throughput and connections.</summary>
internal sealed class JobProgressMonitor(JobStore store, ConnectionSampler connections, int poolMax) : IAsyncDisposable
{
    public static JobProgressMonitor Create(IServiceProvider services)
    {
        var dataSource = services.GetRequiredService<JobDatabase>().DataSource;
        var queue = services.GetRequiredService<IOptions<JobOptions>>().Value.QueueName;
        var sampler = new ConnectionSampler(dataSource, queue, TimeSpan.FromMilliseconds(20));
        sampler.Start();
        var poolMax = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxPoolSize;
        return new JobProgressMonitor(services.GetRequiredService<JobStore>(), sampler, poolMax);
    }

    /// <summary>Runs the count query once, on no jobs.</summary>
    public Task WarmUpAsync(CancellationToken cancellationToken) => store.CountByStateAsync([Guid.Empty], cancellationToken);

    /// <summary>Returns 0 when every job Succeeded, 1 when any ended otherwise, 3 when <paramref name="timeout"/> passed first.</summary>
    public async Task<int> FollowAsync(IReadOnlyCollection<Guid> ids, Stopwatch clock, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Dictionary<JobState, int> counts;
        var deadline = clock.Elapsed + timeout;
        while (true)
        {
            counts = await store.CountByStateAsync(ids, cancellationToken);
            var finished = counts.Where(c => c.Key.IsTerminal()).Sum(c => c.Value);
            Console.WriteLine(FormatLine(clock.Elapsed, ids.Count, counts));
            if (finished == ids.Count || clock.Elapsed > deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        var wall = clock.Elapsed;
        PrintSummary(ids.Count, counts, wall);
        var succeeded = counts.GetValueOrDefault(JobState.Succeeded);
        if (succeeded == ids.Count)
        {
            AnsiConsole.MarkupLine($"[green]All {ids.Count} jobs Succeeded.[/]");
            return CliErrors.Ok;
        }

        var done = counts.Where(c => c.Key.IsTerminal()).Sum(c => c.Value);
        return done < ids.Count
            ? CliErrors.Report($"gave up waiting after {timeout}: {ids.Count - done} of {ids.Count} jobs had not finished", CliErrors.Unavailable)
            : CliErrors.Report($"{ids.Count - succeeded} of {ids.Count} jobs did not succeed (see `{CliErrors.Executable} status ID`)", CliErrors.Failed);
    }

    private static string FormatLine(TimeSpan elapsed, int total, Dictionary<JobState, int> counts)
    {
        var queued = total - counts.Values.Sum();
        var states = string.Join("  ", Enum.GetValues<JobState>().Select(s => $"{s.ToString().ToLowerInvariant()} {counts.GetValueOrDefault(s),5}"));
        return $"[{elapsed.TotalSeconds,6:F1}s] queued {queued,5}  {states}";
    }

    private void PrintSummary(int total, Dictionary<JobState, int> counts, TimeSpan wall)
    {
        var table = new Table().Title("Summary").AddColumn("").AddColumn(new TableColumn("").RightAligned());
        foreach (var state in Enum.GetValues<JobState>())
        {
            table.AddRow(state.ToString(), counts.GetValueOrDefault(state).ToString());
        }

        table.AddRow("Not yet accepted", (total - counts.Values.Sum()).ToString());
        table.AddRow("Wall time", $"{wall.TotalSeconds:F1} s");
        table.AddRow("Throughput", $"{counts.GetValueOrDefault(JobState.Succeeded) / wall.TotalSeconds:F1} jobs/s");
        table.AddRow("Peak connections busy at once, this queue's replicas", connections.PeakBusy.ToString());
        table.AddRow("Peak connections open in one replica", $"{connections.PeakOpenPerReplica} (max {poolMax})");
        table.AddRow("Replicas seen (this queue, live heartbeat)", connections.Replicas.ToString());
        table.AddRow("pg_stat_activity samples (20 ms)", connections.Samples.ToString());
        AnsiConsole.Write(table);
    }

    public ValueTask DisposeAsync() => connections.DisposeAsync();
}
