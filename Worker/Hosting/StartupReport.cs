using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Hosting;

/// <summary>Logs, once at start, who this worker is and the connection budget it runs with.</summary>
public sealed partial class StartupReport(
    WorkerIdentity worker, JobHandlerCatalog handlers, JobDatabase database, IOptions<JobOptions> options,
    ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var pool = new NpgsqlConnectionStringBuilder(database.Initialize().ConnectionString);
        LogStarted(logger, worker.Id, options.Value.QueueName, options.Value.ConcurrentJobs, pool.MaxPoolSize, string.Join(", ", handlers.JobTypes));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Worker {WorkerId} consuming queue {Queue}: {Concurrency} concurrent jobs on a pool of at most {PoolMax} connections; job types: {JobTypes}")]
    private static partial void LogStarted(ILogger logger, string workerId, string queue, int concurrency, int poolMax, string jobTypes);
}
