using JobWorker.Cli;
using Npgsql;

namespace JobWorker.Tests.Cli;

/// <summary>What <c>submit --wait</c> reports as replicas and their connections: its own deployment's live replicas only.</summary>
public sealed class ConnectionSamplerTests
{
    [Test, Description("Issue 21, item 8: one live replica of the queue is one replica, whatever else is connected to the server.")]
    public async Task Sampler_counts_only_the_live_replicas_of_its_own_queue_in_its_own_database()
    {
        var queue = TestWorker.UniqueQueue();
        var tag = Guid.NewGuid().ToString("N")[..8];
        string Id(string name) => $"{name}-{tag}";
        await TestJobs.ExecuteAsync($"""
            INSERT INTO workers (id, queue, slots, busy, started_at, last_seen_at, last_progress_at, stopped_at) VALUES
              ('{Id("live")}', '{queue}', 4, 0, now(), now(), now(), NULL),
              ('{Id("stopped")}', '{queue}', 4, 0, now(), now(), now(), now()),
              ('{Id("stale")}', '{queue}', 4, 0, now() - interval '1 hour', now() - interval '1 hour', now(), NULL),
              ('{Id("other-queue")}', 'another-queue-{tag}', 4, 0, now(), now(), now(), NULL)
            """);

        // The live replica's pool, one connection in this database; another deployment's replica, and a replica of the same
        // name, connected to another database on the same server.
        await using var own = await OpenAsync(TestEnvironment.ConnectionString(applicationName: $"jobworker/{Id("live")}"));
        await using var otherQueue = await OpenAsync(TestEnvironment.ConnectionString(applicationName: $"jobworker/{Id("other-queue")}"));
        await using var elsewhere = await OpenAsync(Named(TestEnvironment.AdminConnectionString("postgres"), $"jobworker/{Id("elsewhere")}"));
        await using var sameNameElsewhere = await OpenAsync(Named(TestEnvironment.AdminConnectionString("postgres"), $"jobworker/{Id("live")}"));

        await using var dataSource = NpgsqlDataSource.Create(TestEnvironment.ConnectionString());
        await using var sampler = new ConnectionSampler(dataSource, queue, TimeSpan.FromMilliseconds(20));
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = await sampler.PrepareAsync(connection, CancellationToken.None);
        await sampler.SampleOnceAsync(command, CancellationToken.None);

        Assert.That(sampler.Replicas, Is.EqualTo(1), "only the live replica of this queue");
        Assert.That(sampler.PeakOpenPerReplica, Is.EqualTo(1), "its one connection to this database");
        Assert.That(sampler.PeakBusy, Is.EqualTo(0), "that connection is idle");
    }

    private static string Named(string connectionString, string applicationName) =>
        new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = applicationName }.ConnectionString;

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await connection.OpenAsync(bound.Token);
        return connection;
    }
}
