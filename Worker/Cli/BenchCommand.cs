using System.CommandLine;
using System.Text.Json;
using JobWorker.Benchmarks;
using JobWorker.Contracts;
using JobWorker.Hosting;
using JobWorker.Messaging;
using JobWorker.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Spectre.Console;

namespace JobWorker.Cli;

/// <summary>
/// <c>jobworker bench</c>: throughput against the database's own ceiling, and the connection economy against
/// the design JobWorker replaces, all in one run on the local services. Prints tables and a chart, writes JSON.
/// </summary>
internal static class BenchCommand
{
    private const string BenchDatabase = "jobworker_bench";

    /// <summary>The dashboard scenario's ledger: a database of its own, so no pool of the earlier scenarios points at it.</summary>
    private const string DashboardDatabase = "jobworker_bench_dashboard";
    private const int SlowJobs = 2000;
    private const int SlowSlots = 64;
    private const int SlowPool = 5;
    private static readonly TimeSpan SlowJob = TimeSpan.FromMilliseconds(200);

    private static SubmitJob SlowSubmitJob() => new()
    {
        JobId = NewId.NextGuid(),
        JobType = "delay",
        Payload = JsonSerializer.SerializeToElement(new { ms = (int)SlowJob.TotalMilliseconds }),
    };

    public static Command Create(IConfiguration configuration)
    {
        var jobs = new Option<int>("--jobs") { DefaultValueFactory = _ => 4000, Description = "Noop jobs per throughput run." };
        var output = new Option<string>("--output") { DefaultValueFactory = _ => "bench-results.json", Description = "Where to write the figures as JSON." };
        var quick = new Option<bool>("--quick") { Description = "Only the database ceiling, the noop drain, the hot path and the priority wait behind 2,000 queued jobs (about a minute)." };
        var dashboard = new Option<bool>("--dashboard") { Description = "Only the dashboard's queries on a big ledger (--rows jobs)." };
        var rows = new Option<int>("--rows") { DefaultValueFactory = _ => 1_000_000, Description = "Jobs in the ledger the dashboard's queries are timed on." };
        var command = new Command("bench", $"Benchmark against the configured PostgreSQL and RabbitMQ, in a database of its own ({BenchDatabase}).")
        {
            jobs, output, quick, dashboard, rows,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() => parse.GetValue(dashboard)
            ? RunDashboardAsync(configuration, Math.Clamp(parse.GetValue(rows), 1_000, 50_000_000), parse.GetValue(output)!, cancellationToken)
            : RunAsync(configuration, Math.Clamp(parse.GetValue(jobs), 100, 1_000_000), Math.Clamp(parse.GetValue(rows), 1_000, 50_000_000),
                parse.GetValue(output)!, parse.GetValue(quick), cancellationToken)));
        return command;
    }

    /// <summary>The dashboard's queries alone: no broker, no worker.</summary>
    private static async Task<int> RunDashboardAsync(IConfiguration configuration, int rows, string output, CancellationToken cancellationToken)
    {
        var builder = JobWorkerHost.CreateCommandBuilder(configuration);
        builder.AddJobPersistence(_ => "jobworker-bench");
        using var host = builder.Build();
        var ledger = await CreateDatabaseAsync(host.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString, cancellationToken, DashboardDatabase);
        var result = await Step($"Dashboard: its queries on a ledger of {rows:N0} jobs", () => DashboardScenario.RunAsync(ledger, rows, cancellationToken));
        PrintDashboard(result);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        AnsiConsole.WriteLine($"Figures written to {Path.GetFullPath(output)}");
        return CliErrors.Ok;
    }

    private static async Task<int> RunAsync(IConfiguration configuration, int jobs, int rows, string output, bool quick, CancellationToken cancellationToken)
    {
        var builder = JobWorkerHost.CreateCommandBuilder(configuration);
        builder.AddJobMessaging(consumeJobs: false);
        builder.AddJobPersistence(_ => "jobworker-bench");
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        // ISendEndpointProvider is scoped: the run's sender takes it from a scope that lasts the run, not from the root.
        await using var scope = host.Services.CreateAsyncScope();
        var sender = new BenchSender(scope.ServiceProvider.GetRequiredService<ISendEndpointProvider>(), host.Services.GetRequiredService<IOptions<RabbitMqOptions>>().Value);
        var configured = host.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString;
        var bench = await CreateDatabaseAsync(configured, cancellationToken);
        var started = DateTime.UtcNow;

        var ceiling = await Step($"Database ceiling: {DatabaseCeiling.StatementsPerJob} statements per job (JobStore), 16 clients, 5 s",
            () => DatabaseCeiling.MeasureAsync(bench, clients: 16, TimeSpan.FromSeconds(5), cancellationToken));
        var drain = await Step($"Drain: {jobs} noop jobs published first, then one replica",
            () => DrainScenario.RunAsync("noop drain", jobs, () => new SubmitJob { JobId = NewId.NextGuid(), JobType = "noop" }, null,
                bench, sender, new Dictionary<string, string>(), cancellationToken));
        var profile = await Step($"Hot path: {jobs} noop jobs drained by a worker in this process (allocations, CPU)",
            () => HotPathProfile.RunAsync(jobs, bench, sender, cancellationToken));
        var backlog = quick ? QuickPriorityBacklog : PriorityBacklog;
        var priority = await Step($"Priority: a priority-9 and a priority-0 noop job published behind {backlog:N0} queued noop jobs, one replica",
            () => PriorityScenario.RunAsync(backlog, bench, sender, cancellationToken));
        if (quick)
        {
            await host.StopAsync(cancellationToken);
            return await ReportAsync(new BenchResults(started, Machine, ceiling, drain, null, [], profile, null, null, null, []) { Priority = priority },
                output, cancellationToken);
        }

        var concurrency = await Step($"Drain: {SlowJobs} x {SlowJob.TotalMilliseconds:F0} ms jobs, {SlowSlots} concurrent, pool {SlowPool}, one replica",
            () => DrainScenario.RunAsync($"{SlowJobs} x {SlowJob.TotalMilliseconds:F0} ms, {SlowSlots} slots, pool {SlowPool}", SlowJobs, SlowSubmitJob,
                SlowJobs * SlowJob / SlowSlots, bench, sender, new Dictionary<string, string>
                {
                    ["Database__ConnectionString"] = new NpgsqlConnectionStringBuilder(bench) { MaxPoolSize = SlowPool }.ConnectionString,
                    ["Jobs__ConcurrentJobs"] = SlowSlots.ToString(),
                }, cancellationToken));
        var throughput = new List<ThroughputResult>();
        foreach (var workers in new[] { 1, 2 })
        {
            throughput.Add(await Step($"Throughput: {jobs} noop jobs, {workers} worker process(es)",
                () => ThroughputScenario.RunAsync(workers, jobs, bench, sender, ceiling.JobsPerSecond, cancellationToken)));
        }

        var jobWorker = await Step("Connection economy: 300 concurrent 1 s jobs on a pool of 5, JobWorker",
            () => ConnectionEconomyScenario.RunJobWorkerAsync(bench, sender, cancellationToken));
        var baseline = await Step("Connection economy: the same with one connection held per job (baseline)",
            () => ConnectionEconomyScenario.RunBaselineAsync(bench, cancellationToken));
        // A database of its own: nothing of the earlier scenarios (rows, statistics, pooled connections) in the ledger's way.
        var ledger = await CreateDatabaseAsync(configured, cancellationToken, DashboardDatabase);
        var dashboard = await Step($"Dashboard: its queries on a ledger of {rows:N0} jobs",
            () => DashboardScenario.RunAsync(ledger, rows, cancellationToken));
        await host.StopAsync(cancellationToken);

        return await ReportAsync(new BenchResults(started, Machine, ceiling, drain, concurrency, throughput, profile, jobWorker, baseline, dashboard, [])
            { Priority = priority }, output, cancellationToken);
    }

    private static string Machine => $"{Environment.ProcessorCount} cores, {Environment.OSVersion}";

    private static async Task<int> ReportAsync(BenchResults measured, string output, CancellationToken cancellationToken)
    {
        var results = measured with { Targets = Targets(measured) };
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

    /// <summary>Every target, met or not, for the scenarios that ran.</summary>
    private static List<TargetResult> Targets(BenchResults r)
    {
        var drain = r.Drain;
        var ofCeiling = drain.JobsPerSecond / r.Ceiling.JobsPerSecond;
        List<TargetResult> targets =
        [
            new("Noop drain, one replica >= 1,600 jobs/s", $"{drain.JobsPerSecond:F0} jobs/s", drain.JobsPerSecond >= 1600),
            new("Worker CPU per noop job <= 0.6 ms", $"{drain.WorkerCpuMsPerJob:F2} ms (drain replica)", drain.WorkerCpuMsPerJob <= 0.6),
            new("Allocation per noop job <= 20 KB", $"{r.Profile.AllocatedKbPerJob:F1} KB (hot path)", r.Profile.AllocatedKbPerJob <= 20),
            new("Noop drain >= 40% of the database ceiling", $"{ofCeiling:P0} ({drain.JobsPerSecond:F0} of {r.Ceiling.JobsPerSecond:F0} jobs/s)", ofCeiling >= 0.4),
            new("Peak working set of a replica under the noop drain <= 100 MB", $"{drain.PeakWorkingSetMb:F0} MB", drain.PeakWorkingSetMb <= 100),
        ];
        if (r.Concurrency is { } c)
        {
            targets.Add(new($"{c.Scenario} >= 95% of ideal", $"{c.FractionOfIdeal:P0} ({c.Seconds:F2} s, ideal {c.IdealSeconds:F2} s)", c.FractionOfIdeal >= 0.95));
        }

        if (r.JobWorker is { } e)
        {
            var ideal = e.WallSeconds / e.IdealSeconds;
            targets.Add(new("300 x 1 s on pool 5 within 110% of ideal", $"{ideal:P0} ({e.WallSeconds:F2} s)", ideal <= 1.1));
            targets.Add(new("300 x 1 s on pool 5: zero pool timeouts", e.PoolTimeouts.ToString(), e.PoolTimeouts == 0 && e.Succeeded == e.Jobs));
            targets.Add(new("300 x 1 s on pool 5: peak busy connections <= 5", e.PeakBusyConnections.ToString(), e.PeakBusyConnections <= 5));
            targets.Add(new("300 x 1 s on pool 5: connection hold per job p99 <= 5 ms", $"{e.HoldP99Ms:F1} ms", e.HoldP99Ms <= 5));
        }

        if (r.Baseline is { } b)
        {
            targets.Add(new("Baseline exhausts the pool", $"{b.PoolTimeouts} timeouts, {b.Succeeded}/{b.Jobs} succeeded", b.PoolTimeouts > 0));
        }

        if (r.Priority is { } p)
        {
            targets.Add(new($"Priority-9 job behind {p.Backlog:N0} queued jobs starts within {PriorityWaitTargetMs} ms",
                $"{p.HighWaitMs:F0} ms (priority 0: {p.LowWaitMs:F0} ms)", p.HighWaitMs <= PriorityWaitTargetMs));
        }

        if (r.Dashboard is { } d)
        {
            var slowest = d.Queries.MaxBy(q => q.P95Ms)!;
            targets.Add(new($"Dashboard at {d.Rows:N0} jobs: every query p95 <= {DashboardQueryTargetMs} ms",
                $"slowest: {slowest.Query}, p95 {slowest.P95Ms:F1} ms", slowest.P95Ms <= DashboardQueryTargetMs));
        }

        return targets;
    }

    private static void Print(BenchResults results)
    {
        var throughput = new Table().Title("Throughput (noop jobs, published while the workers run: publish → Succeeded)")
            .AddColumns("run", "jobs", "jobs/s", "of ceiling", "p50 ms", "p99 ms", "peak WS MB", "worker CPU ms/job", "DB txns/job");
        throughput.AddRow($"database ceiling (JobStore, {results.Ceiling.Clients} clients)", results.Ceiling.Jobs.ToString(), $"{results.Ceiling.JobsPerSecond:F0}", "100%", "-", "-", "-",
            $"{results.Ceiling.ClientCpuMsPerJob:F2} (client)",
            DatabaseCeiling.StatementsPerJob.ToString());
        foreach (var t in results.Throughput)
        {
            throughput.AddRow($"{t.Workers} worker process(es)", t.Jobs.ToString(), $"{t.JobsPerSecond:F0}", $"{t.FractionOfCeiling:P0}",
                $"{t.P50Ms:F0}", $"{t.P99Ms:F0}", $"{t.PeakWorkingSetMb:F0}", $"{t.WorkerCpuMsPerJob:F2}", $"{t.DbTransactionsPerJob:F1}");
        }

        AnsiConsole.Write(throughput);
        var drains = new Table().Title("Drain: a backlog published first, then one replica (first accepted → last finished)")
            .AddColumns("scenario", "jobs", "seconds", "jobs/s", "of ideal", "of ceiling", "worker CPU ms/job", "peak WS MB");
        foreach (var d in new[] { results.Drain, results.Concurrency }.OfType<DrainResult>())
        {
            drains.AddRow(Markup.Escape(d.Scenario), d.Jobs.ToString(), $"{d.Seconds:F2}", $"{d.JobsPerSecond:F0}",
                d.FractionOfIdeal is { } f ? $"{f:P0}" : "-", $"{d.JobsPerSecond / results.Ceiling.JobsPerSecond:P0}", $"{d.WorkerCpuMsPerJob:F2}", $"{d.PeakWorkingSetMb:F0}");
        }

        AnsiConsole.Write(drains);
        if (results.Priority is { } priority)
        {
            AnsiConsole.Write(new Table().Title($"Priority: published together behind {priority.Backlog:N0} queued priority-0 noop jobs, one replica (publish → start)")
                .AddColumns("job", "wait ms", "backlog jobs it started before")
                .AddRow("priority 9", $"{priority.HighWaitMs:F0}", $"{priority.Overtaken:N0}")
                .AddRow("priority 0", $"{priority.LowWaitMs:F0}", "-"));
        }

        AnsiConsole.Write(new Table().Title("Hot path: the worker's own cost per noop job")
            .AddColumns("jobs", "allocated KB/job", "CPU ms/job", "gen0 GCs")
            .AddRow(results.Profile.Jobs.ToString(), $"{results.Profile.AllocatedKbPerJob:F1}", $"{results.Profile.CpuMsPerJob:F2}", results.Profile.Gen0Collections.ToString()));
        var economy = new Table().Title("Connection economy: 300 concurrent 1 s jobs, Maximum Pool Size 5")
            .AddColumns("design", "succeeded", "wall s", "vs ideal", "pool timeouts", "peak busy", "hold/job p50 ms", "hold/job p99 ms");
        foreach (var e in new[] { results.JobWorker, results.Baseline }.OfType<EconomyResult>())
        {
            economy.AddRow(e.Design, $"{e.Succeeded}/{e.Jobs}", $"{e.WallSeconds:F2}", $"{e.WallSeconds / e.IdealSeconds:P0}", e.PoolTimeouts.ToString(),
                $"{e.PeakBusyConnections}/{e.PoolMax}", $"{e.HoldP50Ms:F1}", $"{e.HoldP99Ms:F1}");
        }

        if (economy.Rows.Count > 0)
        {
            AnsiConsole.Write(economy);
        }

        AnsiConsole.Write(new BarChart().Label("jobs/s").Width(70)
            .AddItem("DB ceiling", Math.Round(results.Ceiling.JobsPerSecond), Color.Grey)
            .AddItem("drain, 1 replica", Math.Round(results.Drain.JobsPerSecond), Color.Green)
            .AddItems(results.Throughput, t => new BarChartItem($"{t.Workers} worker(s)", Math.Round(t.JobsPerSecond), Color.Green)));
        if (results is { JobWorker: { } jobWorker, Baseline: { } baseline })
        {
            AnsiConsole.Write(new BarChart().Label("300 x 1 s jobs on 5 connections: wall seconds").Width(70)
                .AddItem("ideal", jobWorker.IdealSeconds, Color.Grey)
                .AddItem("JobWorker", Math.Round(jobWorker.WallSeconds, 2), Color.Green)
                .AddItem("baseline", Math.Round(baseline.WallSeconds, 2), Color.Red));
        }
        var targets = new Table().Title("Targets").AddColumns("target", "measured", "met");
        foreach (var t in results.Targets)
        {
            targets.AddRow(t.Target, Markup.Escape(t.Measured), t.Met ? "[green]yes[/]" : "[red]no[/]");
        }

        if (results.Dashboard is { } dashboard)
        {
            PrintDashboard(dashboard);
        }

        AnsiConsole.Write(targets);
    }

    /// <summary>The budget for one dashboard query on a big ledger: a page makes at most four, and must render well under 200 ms.</summary>
    private const double DashboardQueryTargetMs = 100;

    /// <summary>The priority scenario's backlog: the README's figure (full run), and a smaller one for <c>--quick</c>.</summary>
    private const int PriorityBacklog = 10_000;
    private const int QuickPriorityBacklog = 2_000;

    /// <summary>A priority-9 job overtakes the queue: it waits for a slot, not for the backlog.</summary>
    private const double PriorityWaitTargetMs = 1_000;

    private static void PrintDashboard(DashboardResult result)
    {
        var table = new Table().Title($"Dashboard queries on {result.Rows:N0} jobs (seeded in {result.SeedSeconds:F0} s), warm, 30 runs each")
            .AddColumns("query", "p50 ms", "p95 ms");
        foreach (var q in result.Queries)
        {
            table.AddRow(Markup.Escape(q.Query), $"{q.P50Ms:F1}", $"{q.P95Ms:F1}");
        }

        AnsiConsole.Write(table);
    }

    /// <summary>A fresh, migrated database for the benchmark, so its rows never mix with real jobs.</summary>
    private static async Task<string> CreateDatabaseAsync(string configured, CancellationToken cancellationToken, string name = BenchDatabase)
    {
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(configured) { Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var bench = new NpgsqlConnectionStringBuilder(configured) { Database = name }.ConnectionString;
        await using var db = new PooledDbContextFactory<JobDbContext>(new DbContextOptionsBuilder<JobDbContext>().UseNpgsql(bench).Options).CreateDbContext();
        await db.Database.MigrateAsync(cancellationToken);
        return bench;
    }
}
