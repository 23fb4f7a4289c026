using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobWorker.Tests.Persistence;

/// <summary>The contexts the worker's stores use.</summary>
public sealed class JobDbContextFactoryTests
{
    [Test, Description("A team's host logs at Information by default: the worker's statements must not fill its log.")]
    public async Task CreateDbContext_logs_executed_statements_at_Debug_not_Information()
    {
        var capture = new LogCapture();
        using var loggerFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(capture));
        await using var database = new JobDatabase(
            new FixedOptionsMonitor<DatabaseOptions>(new DatabaseOptions { ConnectionString = TestEnvironment.ConnectionString(maxPoolSize: 2) }),
            new DatabaseClientName("jobworker-tests"), NullLogger<JobDatabase>.Instance);
        database.Initialize();
        await using var context = new JobDbContextFactory(database, [], loggerFactory).CreateDbContext();

        await context.Database.ExecuteSqlRawAsync("SELECT 1");

        var executed = capture.Entries.Where(e => e.Category == DbLoggerCategory.Database.Command.Name && e.Message.StartsWith("Executed DbCommand", StringComparison.Ordinal)).ToList();
        Assert.That(executed, Is.Not.Empty);
        Assert.That(executed.Select(e => e.Level), Is.All.EqualTo(LogLevel.Debug));
    }
}
