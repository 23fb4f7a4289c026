using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>Logs, once at start, who this worker is, where its telemetry goes, the connection budget it runs with, and any renamed setting it was given.</summary>
internal sealed partial class StartupReport(
    WorkerIdentity worker, JobHandlerCatalog handlers, JobDatabase database, IOptions<JobOptions> options,
    IConfiguration configuration, ILogger<StartupReport> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        database.Initialize();
        var settings = options.Value;
        LogStarted(logger, worker.Id, settings.QueueName, settings.ConcurrentJobs, database.PoolMax, string.Join(", ", handlers.JobTypes));
        if (OtlpExport.IsOn(configuration))
        {
            LogExportOn(logger, OtlpExport.Endpoint(configuration)!);
        }
        else
        {
            LogExportOff(logger);
        }

        foreach (var warning in RenamedSettings.Warnings(configuration))
        {
            LogRenamedSetting(logger, warning);
        }

        // What N replicas need against what the server allows: replicas x Maximum Pool Size must fit in
        // max_connections minus the connections reserved for superusers (and whatever else connects).
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var command = database.DataSource.CreateCommand(
                "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int");
            var available = (int)(await command.ExecuteScalarAsync(timeout.Token))!;
            LogBudget(logger, database.PoolMax, settings.ConcurrentJobs, available, available / Math.Max(1, database.PoolMax));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogBudgetUnknown(logger, database.PoolMax, Resilience.DatabaseErrors.Describe(e));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Worker {WorkerId} consuming queue {Queue}: {Concurrency} concurrent jobs on a pool of at most {PoolMax} connections; job types: {JobTypes}")]
    private static partial void LogStarted(ILogger logger, string workerId, string queue, int concurrency, int poolMax, string jobTypes);

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenTelemetry export by JobWorker is off; set OTEL_EXPORTER_OTLP_ENDPOINT to send traces, metrics and logs (Telemetry:OtlpExport=false leaves it to the host)")]
    private static partial void LogExportOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenTelemetry exporting traces, metrics and logs over OTLP to {Endpoint}")]
    private static partial void LogExportOn(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void LogRenamedSetting(ILogger logger, string warning);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Connection budget: each replica opens at most {PoolMax} connections for {Concurrency} concurrent jobs, so N replicas need N x {PoolMax}; the server allows {Available} (max_connections minus superuser_reserved_connections), room for at most {MaxReplicas} replicas")]
    private static partial void LogBudget(ILogger logger, int poolMax, int concurrency, int available, int maxReplicas);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Connection budget: each replica opens at most {PoolMax} connections; could not read the server's max_connections ({Reason})")]
    private static partial void LogBudgetUnknown(ILogger logger, int poolMax, string reason);
}
