using System.Net.Sockets;
using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace JobWorker.Tests;

/// <summary>
/// Finds the real PostgreSQL and RabbitMQ for the whole assembly (started by <c>make test</c> through
/// deploy/local/services.sh), creates a fresh, migrated test database, and says how to fix it when
/// something does not answer. Override with JOBWORKER_TEST_PG_PORT / JOBWORKER_TEST_RABBIT_PORT.
/// </summary>
[SetUpFixture]
public sealed class TestEnvironment
{
    public static string Host => "127.0.0.1";
    public static int PostgresPort { get; } = Port("JOBWORKER_TEST_PG_PORT", 55432);
    public static int RabbitPort { get; } = Port("JOBWORKER_TEST_RABBIT_PORT", 35672);
    public static int RabbitManagementPort { get; } = Port("JOBWORKER_TEST_RABBIT_MGMT_PORT", 35673);

    /// <summary>PgBouncer in transaction mode in front of the same cluster, started by the tests that need it.</summary>
    public static int PgBouncerPort { get; } = Port("JOBWORKER_TEST_PGBOUNCER_PORT", 56432);
    public static string DatabaseName { get; } = $"jobworker_test_{Environment.ProcessId}";

    /// <summary>The test database, as the worker's own (non-superuser) role.</summary>
    public static string ConnectionString(int maxPoolSize = 20, string? applicationName = null) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = PostgresPort,
        Database = DatabaseName,
        Username = "jobworker",
        MaxPoolSize = maxPoolSize,
        ApplicationName = applicationName,
    }.ConnectionString;

    /// <summary>A superuser connection for what tests do to the server itself (create databases, inspect activity).</summary>
    public static string AdminConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = PostgresPort,
        Database = database,
        Username = "postgres",
        Pooling = false,
    }.ConnectionString;

    [OneTimeSetUp]
    public async Task FindServicesAndCreateDatabase()
    {
        await RequireListeningAsync("PostgreSQL", PostgresPort);
        await RequireListeningAsync("RabbitMQ", RabbitPort);
        await CreateMigratedDatabaseAsync(DatabaseName);
    }

    [OneTimeTearDown]
    public async Task DropDatabase() => await DropDatabaseAsync(DatabaseName);

    public static async Task RecreateDatabaseAsync(string name)
    {
        await DropDatabaseAsync(name);
        await using var admin = new NpgsqlConnection(AdminConnectionString());
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\" OWNER jobworker", admin);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>A database of a test's own, created anew and migrated; returns its connection string. The test drops it.</summary>
    public static async Task<string> CreateMigratedDatabaseAsync(string name)
    {
        await RecreateDatabaseAsync(name);
        var connectionString = new NpgsqlConnectionStringBuilder(ConnectionString()) { Database = name }.ConnectionString;
        await using var db = CreateContextFactory(connectionString).CreateDbContext();
        await db.Database.MigrateAsync();
        return connectionString;
    }

    public static async Task DropDatabaseAsync(string name)
    {
        await using var admin = new NpgsqlConnection(AdminConnectionString());
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    internal static PooledDbContextFactory<JobDbContext> CreateContextFactory(string connectionString) =>
        new(new DbContextOptionsBuilder<JobDbContext>().UseNpgsql(connectionString).Options);

    private static async Task RequireListeningAsync(string service, int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.ConnectAsync(Host, port, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Assert.Fail($"{service} is not answering on {Host}:{port}. Start the local services with " +
                        "`deploy/local/services.sh up` (or run the suite through `make test`, which does).");
        }
    }

    private static int Port(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var port) ? port : fallback;
}
