using System.CommandLine;
using System.Text.Json;
using JobWorker.Cli;
using JobWorker.Hosting;
using JobWorker.Messaging;
using JobWorker.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Spectre.Console;

namespace JobWorker.Benchmarks;

/// <summary>
/// <c>jobworker bench</c>: throughput against the database's own ceiling, and the connection economy against
/// the design JobWorker replaces, all in one run on the local services. Prints tables and a chart, writes JSON.
/// </summary>
public static class BenchCommand
{
    private const string BenchDatabase = "jobworker_bench";

    public static Command Create()
    {
        var jobs = new Option<int>("--jobs") { DefaultValueFactory = _ => 4000, Description = "Noop jobs per throughput run." };
        var output = new Option<string>("--output") { DefaultValueFactory = _ => "bench-results.json", Description = "Where to write the figures as JSON." };
        var command = new Command("bench", $"Benchmark against the configured PostgreSQL and RabbitMQ, in a database of its own ({BenchDatabase}).") { jobs, output };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() =>
            RunAsync(Math.Clamp(parse.GetValue(jobs), 100, 1_000_000), parse.GetValue(output)!, cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(int jobs, string output, CancellationToken cancellationToken)
    {
        var builder = JobWorkerHost.CreateBuilder(quiet: true);
        builder.AddJobMessaging(consumeJobs: false);
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        var sender = host.Services.GetRequiredService<ISendEndpointProvider>();
        var configured = host.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString;
        var bench = await CreateDatabaseAsync(configured, cancellationToken);
        var started = DateTime.UtcNow;

        var ceiling = await Step("Database ceiling: 3 statements per job, 16 clients, 5 s",
            () => DatabaseCeiling.MeasureAsync(bench, clients: 16, TimeSpan.FromSeconds(5), cancellationToken));
        var throughput = new List<ThroughputResult>();
        foreach (var workers in new[] { 1, 2 })
        {
            throughput.Add(await Step($"Throughput: {jobs} noop jobs, {workers} worker process(es)",
                () => ThroughputScenario.RunAsync(workers, jobs, bench, sender, ceiling.JobsPerSecond, cancellationToken)));
        }

        var profile = await Step($"Hot path: {jobs} noop jobs drained by a worker in this process (allocations, CPU)",
            () => HotPathProfile.RunAsync(jobs, bench, sender, cancellationToken));
        var jobWorker = await Step("Connection economy: 300 concurrent 1 s jobs on a pool of 5, JobWorker",
            () => ConnectionEconomyScenario.RunJobWorkerAsync(bench, sender, cancellationToken));
        var baseline = await Step("Connection economy: the same with a context held per job (baseline)",
            () => ConnectionEconomyScenario.RunBaselineAsync(bench, cancellationToken));
        await host.StopAsync(cancellationToken);

        var results = new BenchResults(started, $"{Environment.ProcessorCount} cores, {Environment.OSVersion}", ceiling, throughput, profile, jobWorker, baseline,
            Targets(ceiling, throughput, jobWorker, baseline));
        Print(results);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        AnsiConsole.WriteLine($"Figures written to {Path.GetFullPath(output)}");
        return CliErrors.Ok;
    }

    private static async Task<T> Step<T>(string title, Func<Task<T>> run)
    {
        AnsiConsole.WriteLine($"- {title} ...");
        return await run();
    }

    private static List<TargetResult> Targets(CeilingResult ceiling, List<ThroughputResult> throughput, EconomyResult jobWorker, EconomyResult baseline)
    {
        var one = throughput.First(t => t.Workers == 1);
        // Scenario 3 runs inside the bench process (to read its pool and spans); the worker processes are scenario 2's.
        var peakMemory = throughput.Max(t => t.PeakWorkingSetMb);
        return
        [
            new("Noop throughput, 1 worker >= 50% of the database ceiling", $"{one.FractionOfCeiling:P0} ({one.JobsPerSecond:F0} of {ceiling.JobsPerSecond:F0} jobs/s)", one.FractionOfCeiling >= 0.5),
            new("300 x 1 s on pool 5 within 110% of ideal", $"{jobWorker.WallSeconds / jobWorker.IdealSeconds:P0} ({jobWorker.WallSeconds:F2} s)", jobWorker.WallSeconds <= 1.1 * jobWorker.IdealSeconds),
            new("300 x 1 s on pool 5: zero pool timeouts", jobWorker.PoolTimeouts.ToString(), jobWorker.PoolTimeouts == 0 && jobWorker.Succeeded == jobWorker.Jobs),
            new("300 x 1 s on pool 5: peak busy connections <= 5", jobWorker.PeakBusyConnections.ToString(), jobWorker.PeakBusyConnections <= 5),
            new("300 x 1 s on pool 5: connection hold per job p99 <= 5 ms", $"{jobWorker.HoldP99Ms:F1} ms", jobWorker.HoldP99Ms <= 5),
            new("Peak working set of a worker process <= 150 MB", $"{peakMemory:F0} MB (bench process with scenario 3: {jobWorker.PeakWorkingSetMb:F0} MB)", peakMemory <= 150),
            new("Baseline exhausts the pool", $"{baseline.PoolTimeouts} timeouts, {baseline.Succeeded}/{baseline.Jobs} succeeded", baseline.PoolTimeouts > 0),
        ];
    }

    private static void Print(BenchResults results)
    {
        var throughput = new Table().Title("Throughput (noop jobs, publish → Succeeded)")
            .AddColumns("run", "jobs", "jobs/s", "of ceiling", "p50 ms", "p99 ms", "peak WS MB", "worker CPU ms/job", "DB txns/job");
        throughput.AddRow("database ceiling (Npgsql, 16 clients)", results.Ceiling.Jobs.ToString(), $"{results.Ceiling.JobsPerSecond:F0}", "100%", "-", "-", "-", "-", "3");
        foreach (var t in results.Throughput)
        {
            throughput.AddRow($"{t.Workers} worker process(es)", t.Jobs.ToString(), $"{t.JobsPerSecond:F0}", $"{t.FractionOfCeiling:P0}",
                $"{t.P50Ms:F0}", $"{t.P99Ms:F0}", $"{t.PeakWorkingSetMb:F0}", $"{t.WorkerCpuMsPerJob:F2}", $"{t.DbTransactionsPerJob:F1}");
        }

        AnsiConsole.Write(throughput);
        AnsiConsole.Write(new Table().Title("Hot path: the worker's own cost per noop job")
            .AddColumns("jobs", "allocated KB/job", "CPU ms/job", "gen0 GCs")
            .AddRow(results.Profile.Jobs.ToString(), $"{results.Profile.AllocatedKbPerJob:F1}", $"{results.Profile.CpuMsPerJob:F2}", results.Profile.Gen0Collections.ToString()));
        var economy = new Table().Title("Connection economy: 300 concurrent 1 s jobs, Maximum Pool Size 5")
            .AddColumns("design", "succeeded", "wall s", "vs ideal", "pool timeouts", "peak busy", "hold/job p50 ms", "hold/job p99 ms");
        foreach (var e in new[] { results.JobWorker, results.Baseline })
        {
            economy.AddRow(e.Design, $"{e.Succeeded}/{e.Jobs}", $"{e.WallSeconds:F2}", $"{e.WallSeconds / e.IdealSeconds:P0}", e.PoolTimeouts.ToString(),
                $"{e.PeakBusyConnections}/{e.PoolMax}", $"{e.HoldP50Ms:F1}", $"{e.HoldP99Ms:F1}");
        }

        AnsiConsole.Write(economy);
        AnsiConsole.Write(new BarChart().Label("jobs/s").Width(70)
            .AddItem("DB ceiling", Math.Round(results.Ceiling.JobsPerSecond), Color.Grey)
            .AddItems(results.Throughput, t => new BarChartItem($"{t.Workers} worker(s)", Math.Round(t.JobsPerSecond), Color.Green)));
        AnsiConsole.Write(new BarChart().Label("300 x 1 s jobs on 5 connections: wall seconds").Width(70)
            .AddItem("ideal", results.JobWorker.IdealSeconds, Color.Grey)
            .AddItem("JobWorker", Math.Round(results.JobWorker.WallSeconds, 2), Color.Green)
            .AddItem("baseline", Math.Round(results.Baseline.WallSeconds, 2), Color.Red));
        var targets = new Table().Title("Targets").AddColumns("target", "measured", "met");
        foreach (var t in results.Targets)
        {
            targets.AddRow(t.Target, Markup.Escape(t.Measured), t.Met ? "[green]yes[/]" : "[red]no[/]");
        }

        AnsiConsole.Write(targets);
    }

    /// <summary>A fresh, migrated database for the benchmark, so its rows never mix with real jobs.</summary>
    private static async Task<string> CreateDatabaseAsync(string configured, CancellationToken cancellationToken)
    {
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(configured) { Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {BenchDatabase} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {BenchDatabase}", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var bench = new NpgsqlConnectionStringBuilder(configured) { Database = BenchDatabase }.ConnectionString;
        await using var db = new PooledDbContextFactory<JobDbContext>(new DbContextOptionsBuilder<JobDbContext>().UseNpgsql(bench).Options).CreateDbContext();
        await db.Database.MigrateAsync(cancellationToken);
        return bench;
    }
}
