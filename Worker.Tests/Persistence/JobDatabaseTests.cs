using JobWorker.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobWorker.Tests.Persistence;

/// <summary>The data source's lifecycle: one per process, reset once per failure wave, disposed at the end.</summary>
public sealed class JobDatabaseTests
{
    private static JobDatabase Create(string? connectionString = null) => new(
        new FixedOptionsMonitor<DatabaseOptions>(new DatabaseOptions { ConnectionString = connectionString ?? TestEnvironment.ConnectionString(maxPoolSize: 5) }),
        new DatabaseClientName("jobworker-tests"),
        NullLogger<JobDatabase>.Instance);

    [Test]
    public async Task Initialize_creates_one_data_source_however_many_threads_ask()
    {
        await using var database = Create();

        var sources = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(database.Initialize)));

        Assert.That(sources.Distinct().Count(), Is.EqualTo(1));
        Assert.That(database.DataSource, Is.SameAs(sources[0]));
    }

    [Test]
    public async Task Many_concurrent_resets_for_one_failure_collapse_into_one()
    {
        await using var database = Create();
        var failed = database.Generation;

        var resets = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(() => database.Reset(failed, "test"))));

        Assert.That(resets.Count(r => r), Is.EqualTo(1));
        Assert.That(database.Resets, Is.EqualTo(1));
        Assert.That(database.Generation, Is.EqualTo(failed + 1));
    }

    [Test]
    public async Task A_clear_keeps_the_data_source_and_a_recreate_replaces_it_with_a_working_one()
    {
        await using var database = Create();
        var original = database.DataSource;

        database.Reset(database.Generation, "clear");
        var afterClear = database.DataSource;
        database.Reset(database.Generation, "recreate", recreate: true);
        var afterRecreate = database.DataSource;

        Assert.That(afterClear, Is.SameAs(original));
        Assert.That(afterRecreate, Is.Not.SameAs(original));
        await using var command = afterRecreate.CreateCommand("SELECT 1");
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo(1));
    }

    [Test]
    public async Task Dispose_closes_the_pool_and_later_use_is_refused()
    {
        var database = Create();
        await using (var command = database.DataSource.CreateCommand("SELECT 1"))
        {
            await command.ExecuteScalarAsync();
        }

        await database.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => database.Initialize());
        Assert.That(database.Reset(database.Generation, "after dispose"), Is.False);
    }
}
