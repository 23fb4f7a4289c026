using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Resilience;

/// <summary>Which failures the transition pipeline retries, and what it does about broken pools.</summary>
public sealed class TransitionResilienceTests
{
    private static (TransitionResilience Pipeline, JobDatabase Database, DatabaseCircuit Circuit) Create()
    {
        var database = new JobDatabase(
            new FixedOptionsMonitor<DatabaseOptions>(new DatabaseOptions { ConnectionString = TestEnvironment.ConnectionString() }),
            new DatabaseClientName("jobworker-tests"), NullLogger<JobDatabase>.Instance);
        var circuit = new DatabaseCircuit();
        var options = Options.Create(new ResilienceOptions
        {
            TransitionRetryBaseDelay = TimeSpan.FromMilliseconds(1),
            TransitionRetryMaxDelay = TimeSpan.FromMilliseconds(5),
            BreakerMinimumThroughput = 4,
            BreakerBreakDuration = TimeSpan.FromSeconds(1),
        });
        return (new TransitionResilience(database, circuit, options, NullLoggerFactory.Instance), database, circuit);
    }

    [Test]
    public async Task A_transient_error_is_retried_and_a_broken_connection_resets_the_pool_once()
    {
        var (pipeline, database, _) = Create();
        await using var _database = database;
        var calls = 0;

        var result = await pipeline.ExecuteAsync("test", _ =>
        {
            calls++;
            return calls < 3
                ? throw new NpgsqlException("Exception while reading from stream", new IOException("connection reset"))
                : Task.FromResult("done");
        }, CancellationToken.None);

        Assert.That(result, Is.EqualTo("done"));
        Assert.That(calls, Is.EqualTo(3));
        Assert.That(database.Resets, Is.EqualTo(2), "one reset per failed generation");
    }

    [Test]
    public async Task An_authentication_failure_rebuilds_the_data_source_from_the_current_settings()
    {
        var (pipeline, database, _) = Create();
        await using var _database = database;
        var original = database.DataSource;
        var calls = 0;

        await pipeline.ExecuteAsync("test", _ => ++calls == 1
            ? throw new PostgresException("password authentication failed for user \"jobworker\"", "FATAL", "FATAL", "28P01")
            : Task.FromResult(0), CancellationToken.None);

        Assert.That(calls, Is.EqualTo(2));
        Assert.That(database.DataSource, Is.Not.SameAs(original));
    }

    [Test]
    public async Task A_non_transient_error_such_as_a_constraint_violation_is_not_retried()
    {
        var (pipeline, database, _) = Create();
        await using var _database = database;
        var calls = 0;

        Assert.ThrowsAsync<PostgresException>(() => pipeline.ExecuteAsync<int>("test", _ =>
        {
            calls++;
            throw new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505");
        }, CancellationToken.None));

        Assert.That(calls, Is.EqualTo(1));
        Assert.That(database.Resets, Is.Zero);
    }

    [Test]
    public async Task A_database_that_keeps_failing_opens_the_circuit_until_it_answers()
    {
        var (pipeline, database, circuit) = Create();
        await using var _database = database;
        var healthyAfter = DateTime.UtcNow.AddSeconds(2);
        var opened = circuit.WaitUntilOpenAsync(CancellationToken.None);

        var result = await pipeline.ExecuteAsync("test", _ => DateTime.UtcNow < healthyAfter
            ? throw new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03")
            : Task.FromResult(42), new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.That(result, Is.EqualTo(42));
        Assert.That(opened.IsCompleted, Is.True, "the breaker must have opened the circuit (which pauses consumption)");
        Assert.That(circuit.Reason, Does.Contain("57P03"));
        Assert.That(circuit.IsOpen, Is.False, "the successful call closes the breaker and the circuit");
    }

    [TestCase("25006", TestName = "A read-only database (failover in progress) is retried")]
    [TestCase("57014", TestName = "A statement timeout is retried")]
    public async Task A_cannot_write_now_error_is_retried_until_the_database_takes_the_write(string sqlState)
    {
        var (pipeline, database, _) = Create();
        await using var _database = database;
        var calls = 0;

        var result = await pipeline.ExecuteAsync("test", _ => ++calls < 3
            ? throw new PostgresException("cannot execute UPDATE now", "ERROR", "ERROR", sqlState)
            : Task.FromResult("written"), new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.That(result, Is.EqualTo("written"));
        Assert.That(calls, Is.EqualTo(3));
    }

    [Test]
    public void A_transition_stops_retrying_when_its_caller_gives_up()
    {
        var (pipeline, _, _) = Create();
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        Assert.CatchAsync<OperationCanceledException>(() => pipeline.ExecuteAsync<int>("test",
            _ => throw new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111)), giveUp.Token));
    }
}
