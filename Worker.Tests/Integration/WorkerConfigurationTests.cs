using Npgsql;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>Settings that change what the worker does at start and which job types it runs.</summary>
public sealed class WorkerConfigurationTests
{
    [Test]
    public async Task MigrateOnStart_creates_the_schema_before_jobs_are_consumed()
    {
        var database = $"{TestEnvironment.DatabaseName}_onstart";
        await TestEnvironment.RecreateDatabaseAsync(database);
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString()) { Database = database }.ConnectionString;
            await using var worker = await TestWorker.StartAsync(new()
            {
                ["Database:ConnectionString"] = connectionString,
                ["Database:MigrateOnStart"] = "true",
            });

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM jobs", connection);
            Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo(0L));
        }
        finally
        {
            await TestEnvironment.DropDatabaseAsync(database);
        }
    }

    [Test]
    public async Task A_built_in_handler_switched_off_is_an_unknown_job_type()
    {
        await using var worker = await TestWorker.StartAsync(new() { ["Handlers:Delay:Enabled"] = "false" });
        await using var client = await TestClient.StartAsync(worker.Queue);
        var delay = TestJobs.Submit("delay", new { ms = 1 });
        var noop = TestJobs.Submit("noop");

        await client.SendAsync(worker.Queue, [delay, noop]);

        var rejected = await TestJobs.WaitForStateAsync(delay.JobId, JobState.Failed, TimeSpan.FromSeconds(30));
        await TestJobs.WaitForStateAsync(noop.JobId, JobState.Succeeded, TimeSpan.FromSeconds(30));
        Assert.That(rejected.Error, Is.EqualTo("Unknown job type 'delay'. This worker handles: noop, record."), "delay is switched off; noop and the test worker's record remain");
    }
}
