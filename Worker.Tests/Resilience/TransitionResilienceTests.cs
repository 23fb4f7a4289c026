using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Resilience;

/// <summary>Which failures the transition pipeline retries, and what it does about broken pools.</summary>
public sealed class TransitionResilienceTests
{
    private static (TransitionResilience Pipeline, JobDatabase Database, DatabaseCircuit Circuit) Create(ILoggerFactory? loggerFactory = null)
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
        return (new TransitionResilience(database, circuit, options, loggerFactory ?? NullLoggerFactory.Instance), database, circuit);
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

    [Test, Description("Polly.Extensions reports the breaker's transitions; transitions waiting for the open breaker retry without a warning each.")]
    public async Task The_breaker_reports_its_transitions_through_polly_and_waiting_transitions_do_not_warn()
    {
        var events = new ConcurrentQueue<string>();
        using var meter = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Polly" && instrument.Name == "resilience.polly.strategy.events")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meter.SetMeasurementEventCallback<int>((_, _, tags, _) =>
        {
            var (name, pipeline) = ("", "");
            foreach (var tag in tags)
            {
                (name, pipeline) = tag.Key switch
                {
                    "event.name" => ((string)tag.Value!, pipeline),
                    "pipeline.name" => (name, (string)tag.Value!),
                    _ => (name, pipeline),
                };
            }

            if (pipeline == TransitionResilience.PipelineName)
            {
                events.Enqueue(name);
            }
        });
        meter.Start();
        var logs = new LogCapture();
        using var loggerFactory = LoggerFactory.Create(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var (pipeline, database, circuit) = Create(loggerFactory);
        await using var _database = database;
        var healthyAfter = DateTime.UtcNow.AddSeconds(2);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var failures = 0;

        // Several transitions at once, as a worker's slots do, so some wait on the open breaker.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => pipeline.ExecuteAsync("test", _ =>
        {
            if (DateTime.UtcNow < healthyAfter)
            {
                Interlocked.Increment(ref failures);
                throw new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03");
            }

            return Task.FromResult(42);
        }, giveUp.Token)));

        Assert.That(events, Does.Contain("OnCircuitOpened").And.Contain("OnCircuitHalfOpened").And.Contain("OnCircuitClosed").And.Contain("OnRetry"));
        Assert.That(circuit.IsOpen, Is.False);
        Assert.That(database.Resets, Is.InRange(1, failures),
            "only an attempt that reached the database resets the pool, not a retry waiting on the open breaker");
        var polly = logs.Entries.Where(e => e.Category == "Polly").ToList();
        Assert.That(polly.Where(e => e.Level == LogLevel.Error).Select(e => e.Message), Has.Some.Contains("EventName: 'OnCircuitOpened'"));
        Assert.That(polly.Where(e => e.Message.Contains("is not allowing calls", StringComparison.Ordinal)).Select(e => e.Level),
            Is.Not.Empty.And.All.EqualTo(LogLevel.Debug), "a transition waiting for the open breaker is logged at Debug only");
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
