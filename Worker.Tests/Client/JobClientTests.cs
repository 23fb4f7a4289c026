using System.Diagnostics;
using JobWorker.Contracts;
using JobWorker.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Client;

/// <summary>
/// <see cref="IJobClient"/> as an app uses it (its own host, <c>AddJobWorkerClient(configuration)</c>, the bus the client
/// adds), against one worker shared by the fixture on the real services, with a short <c>Dispatch:Interval</c> (100 ms)
/// and the continuation releaser's sweep an hour away (so no test here is passed by the sweep).
/// </summary>
[NonParallelizable]
public sealed class JobClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>A few dispatch ticks (100 ms each) and the status round trips: what a job enqueued in a transaction waits for its checks.</summary>
    private static readonly TimeSpan Checked = TimeSpan.FromSeconds(10);
    private TestWorker _worker = null!;
    private IHost _app = null!;

    private IJobClient Client => _app.Services.GetRequiredService<IJobClient>();

    /// <summary>A payload type of the app's own: sent camelCase.</summary>
    private sealed record OrderPayload(int OrderId, string Customer);

    [OneTimeSetUp]
    public async Task StartWorkerAndApp()
    {
        // The worker embeds a client too, on its own bus: an app that runs jobs and submits them.
        _worker = await TestWorker.StartAsync(
            new() { ["Continuations:SweepInterval"] = "01:00:00" }, worker: w => w.Services.AddJobWorkerClient(w.Host.Configuration));
        _app = ClientApp(new()
        {
            ["Jobs:QueueName"] = _worker.Queue,
            ["RabbitMq:Host"] = TestEnvironment.Host,
            ["RabbitMq:Port"] = TestEnvironment.RabbitPort.ToString(),
        });
        using var timeout = new CancellationTokenSource(Bound);
        await _app.StartAsync(timeout.Token);
        await TestJobs.ExecuteAsync("CREATE TABLE IF NOT EXISTS client_test_orders (id uuid PRIMARY KEY, job_id uuid NOT NULL); GRANT ALL ON client_test_orders TO jobworker;");
    }

    [OneTimeTearDown]
    public async Task StopWorkerAndApp()
    {
        using var timeout = new CancellationTokenSource(Bound);
        await _app.StopAsync(timeout.Token);
        _app.Dispose();
        await _worker.DisposeAsync();
    }

    private static IHost ClientApp(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddJobWorkerClient(builder.Configuration);
        return builder.Build();
    }

    [Test]
    public async Task SubmitAsync_sends_a_typed_payload_that_a_worker_runs_and_WaitAsync_returns_Succeeded()
    {
        var id = await Client.SubmitAsync(RecordingJobHandler.JobType, new OrderPayload(42, "Ada"), new JobSubmitOptions { CorrelationId = Guid.NewGuid() });

        var status = await Client.WaitAsync(id, Bound);

        Assert.That(status.State, Is.EqualTo("Succeeded"), status.Error);
        Assert.That(_worker.Runs.For(id), Is.EqualTo(1));
        Assert.That(await PayloadAsync(id), Is.EqualTo("""{"orderId": 42, "customer": "Ada"}"""));
        var again = await Client.GetStatusAsync(id);
        Assert.That((again.Found, again.JobId, again.JobType), Is.EqualTo((true, id, RecordingJobHandler.JobType)));
    }

    [Test]
    public async Task CancelAsync_cancels_a_scheduled_job_before_it_runs()
    {
        var id = await Client.SubmitAsync(RecordingJobHandler.JobType, options: new JobSubmitOptions { Delay = TimeSpan.FromHours(1) });
        await Eventually.WaitForAsync(() => Client.GetStatusAsync(id), s => s.State == "Pending", Bound, "the scheduled job accepted");

        await Client.CancelAsync(id, "customer changed their mind");
        var status = await Client.WaitAsync(id, Bound);

        Assert.That(status.State, Is.EqualTo("Cancelled"));
        Assert.That(status.Error, Does.Contain("customer changed their mind"));
        Assert.That(_worker.Runs.For(id), Is.Zero);
    }

    [Test]
    public async Task WaitAsync_throws_naming_the_job_and_its_state_when_the_timeout_passes()
    {
        var id = await Client.SubmitAsync(RecordingJobHandler.JobType, options: new JobSubmitOptions { Delay = TimeSpan.FromHours(1) });

        var error = Assert.ThrowsAsync<TimeoutException>(() => Client.WaitAsync(id, TimeSpan.FromSeconds(1)));

        Assert.That(error!.Message, Does.Contain(id.ToString()).And.Contain("last state was"));
        await Client.CancelAsync(id, "test over");
    }

    [Test, Description("Transactional enqueue: the job is due when the caller commits, and the dispatcher sends it at its next tick.")]
    public async Task SubmitAsync_in_a_transaction_runs_the_job_once_committed()
    {
        await using var connection = await OpenAsync();
        Guid id;
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            id = await Client.SubmitAsync(RecordingJobHandler.JobType, new OrderPayload(7, "Grace"), transaction);
            Assert.That(await RowCountAsync(id), Is.Zero, "not visible before the commit");
            await transaction.CommitAsync();
        }

        var committed = Stopwatch.StartNew();
        var status = await Client.WaitAsync(id, Bound);
        var job = (await TestJobs.FindAsync(id))!;
        TestContext.Out.WriteLine($"commit to Succeeded seen: {committed.ElapsedMilliseconds} ms; written to started (database clock): {(job.StartedAt - job.CreatedAt)?.TotalMilliseconds} ms");

        Assert.That(status.State, Is.EqualTo("Succeeded"), status.Error);
        Assert.That(job.StartedAt, Is.Not.Null);
        Assert.That(_worker.Runs.For(id), Is.EqualTo(1));
        Assert.That(await PayloadAsync(id), Is.EqualTo("""{"orderId": 7, "customer": "Grace"}"""));
    }

    [Test]
    public async Task SubmitAsync_in_a_transaction_leaves_no_job_when_rolled_back()
    {
        await using var connection = await OpenAsync();
        Guid id;
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            id = await Client.SubmitAsync(RecordingJobHandler.JobType, null, transaction);
            await transaction.RollbackAsync();
        }

        // Several dispatch ticks (100 ms each) and a status round trip later, nothing ran and no worker knows the job.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var status = await Client.GetStatusAsync(id);

        Assert.That(await RowCountAsync(id), Is.Zero);
        Assert.That(status.Found, Is.False);
        Assert.That(_worker.Runs.For(id), Is.Zero);
    }

    [Test, Description("The order and its job commit together or not at all: an exception after both writes rolls back both.")]
    public async Task SubmitAsync_in_a_transaction_rolls_back_with_the_business_row_when_the_caller_throws()
    {
        var order = Guid.NewGuid();
        Guid? job = null;
        await using var connection = await OpenAsync();

        Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var transaction = await connection.BeginTransactionAsync();
            job = await Client.SubmitAsync(RecordingJobHandler.JobType, new OrderPayload(1, "Linus"), transaction);
            await using var insert = new NpgsqlCommand("INSERT INTO client_test_orders (id, job_id) VALUES ($1, $2)", connection, transaction)
            {
                Parameters = { new() { Value = order }, new() { Value = job.Value } },
            };
            await insert.ExecuteNonQueryAsync();
            throw new InvalidOperationException("payment declined");
        });

        Assert.That(job, Is.Not.Null, "the enqueue ran before the exception");
        await using var count = new NpgsqlCommand("SELECT count(*) FROM client_test_orders WHERE id = $1", connection) { Parameters = { new() { Value = order } } };
        Assert.That((long)(await count.ExecuteScalarAsync())!, Is.Zero, "no order");
        Assert.That(await RowCountAsync(job!.Value), Is.Zero, "no job");
    }

    [Test, Description("A type no replica handles fails as an unknown type, as a SubmitJob of it does, instead of staying Pending and being sent again for ever.")]
    public async Task SubmitAsync_in_a_transaction_of_a_type_no_worker_handles_ends_Failed_naming_the_type()
    {
        var id = await EnqueueAsync("no-such-type");

        var status = await Client.WaitAsync(id, Checked);

        Assert.That(status.State, Is.EqualTo("Failed"));
        Assert.That(status.Error, Does.StartWith("Unknown job type 'no-such-type'. This worker handles: ").And.Contain(RecordingJobHandler.JobType));
        Assert.That(await TestJobs.HistoryAsync(id), Is.EqualTo(new[] { "Failed@0" }), "the JobFailed event a rejected submission records");
        Assert.That(await UncheckedAsync(id), Is.False);
    }

    [TestCase("Timeout", "Submissions:MaxTimeout")]
    [TestCase("Delay", "Submissions:MaxScheduleAhead")]
    public async Task SubmitAsync_in_a_transaction_beyond_a_submission_limit_ends_Failed_naming_the_limit(string option, string limit)
    {
        var options = option == "Timeout" ? new JobSubmitOptions { Timeout = TimeSpan.FromDays(2) } : new JobSubmitOptions { Delay = TimeSpan.FromDays(400) };
        var id = await EnqueueAsync(RecordingJobHandler.JobType, options);

        var status = await Client.WaitAsync(id, Checked);

        Assert.That(status.State, Is.EqualTo("Failed"));
        Assert.That(status.Error, Does.Contain(limit));
        Assert.That(_worker.Runs.For(id), Is.Zero);
    }

    [Test, Description("Its parent finished an hour ago, outside the releaser's recent window, and the releaser's sweep is an hour away: only the check can release it.")]
    public async Task SubmitAsync_in_a_transaction_runs_a_continuation_whose_parent_had_already_Succeeded()
    {
        var parent = await JobFactory.InsertAsync(JobState.Succeeded, type: RecordingJobHandler.JobType);
        await TestJobs.ExecuteAsync("UPDATE jobs SET finished_at = now() - interval '1 hour' WHERE id = $1", parent.Id);

        var id = await EnqueueAsync(RecordingJobHandler.JobType, new JobSubmitOptions { After = [parent.Id] });
        var status = await Client.WaitAsync(id, Checked);

        Assert.That(status.State, Is.EqualTo("Succeeded"), status.Error);
        Assert.That(_worker.Runs.For(id), Is.EqualTo(1));
    }

    [Test, Description("The client writes the jobs table itself: a schema change that forgets it fails here.")]
    public async Task A_job_enqueued_in_a_transaction_is_stored_as_a_worker_accepts_it()
    {
        var parent = Guid.NewGuid();
        var scheduled = new JobSubmitOptions
        {
            Delay = TimeSpan.FromHours(2), Timeout = TimeSpan.FromSeconds(40), CorrelationId = Guid.NewGuid(), Priority = 4, ConcurrencyKey = "tenant-7",
        };
        var continuation = new JobSubmitOptions { After = [parent], AfterAny = true, MaxAttempts = 5, Priority = 2 };
        var payload = new OrderPayload(3, "Barbara");

        var sent = await Client.SubmitAsync("noop", payload, scheduled);
        var sentContinuation = await Client.SubmitAsync("noop", payload, continuation);
        Guid written, writtenContinuation;
        await using var connection = await OpenAsync();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            written = await Client.SubmitAsync("noop", payload, transaction, scheduled);
            writtenContinuation = await Client.SubmitAsync("noop", payload, transaction, continuation);
            await transaction.CommitAsync();
        }

        await Eventually.WaitForAsync(() => RowCountAsync(sent), n => n == 1, Bound, "the worker's accept of the scheduled job");
        await Eventually.WaitForAsync(() => RowCountAsync(sentContinuation), n => n == 1, Bound, "the worker's accept of the continuation");
        await Eventually.WaitForAsync(() => UncheckedAsync(written), u => u == false, Bound, "the dispatcher's check of the scheduled job");
        await Eventually.WaitForAsync(() => UncheckedAsync(writtenContinuation), u => u == false, Bound, "the dispatcher's check of the continuation");

        Assert.That(await RowAsync(written), Is.EqualTo(await RowAsync(sent)));
        Assert.That(await RowAsync(writtenContinuation), Is.EqualTo(await RowAsync(sentContinuation)));
        Assert.That(await ParentsAsync(writtenContinuation), Is.EqualTo(await ParentsAsync(sentContinuation)).And.EqualTo(new[] { parent }));
        await Client.CancelAsync(sent, "test over");
        await Client.CancelAsync(written, "test over");
    }

    [Test, Description("An app with a bus of its own (here a worker's) gets no second bus: the client sends on the app's.")]
    public async Task AddJobWorkerClient_uses_the_bus_of_an_app_that_has_one()
    {
        var embedded = _worker.Services.GetRequiredService<IJobClient>();

        var id = await embedded.SubmitAsync(RecordingJobHandler.JobType, new { ms = 1 });
        var status = await embedded.WaitAsync(id, Bound);

        Assert.That(status.State, Is.EqualTo("Succeeded"), status.Error);
        Assert.That(_worker.Services.GetServices<MassTransit.IBus>().Count(), Is.EqualTo(1));
    }

    [Test]
    public void AddJobWorkerClient_refuses_to_start_with_bad_settings_naming_each_key()
    {
        using var app = ClientApp(new()
        {
            ["Jobs:QueueName"] = "has space",
            ["RabbitMq:Port"] = "0",
            ["RabbitMq:Hosts:0"] = "no-port",
            ["JobClient:MaxPayloadBytes"] = "1",
            ["JobClient:StatusTimeout"] = "00:00:00",
        });
        using var timeout = new CancellationTokenSource(Bound);

        var error = Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(timeout.Token));

        Assert.That(error!.Message, Does.Contain("Jobs:QueueName").And.Contain("RabbitMq:Port").And.Contain("RabbitMq:Hosts")
            .And.Contain("JobClient:MaxPayloadBytes").And.Contain("JobClient:StatusTimeout"));
    }

    [TestCase("Priority"), TestCase("RunAt"), TestCase("After"), TestCase("MaxAttempts"), TestCase("payload")]
    public void SubmitAsync_refuses_a_bad_option_naming_it(string option)
    {
        var (payload, options) = option switch
        {
            "Priority" => ((object?)null, new JobSubmitOptions { Priority = 10 }),
            "RunAt" => (null, new JobSubmitOptions { RunAt = DateTimeOffset.UtcNow.AddHours(1), Delay = TimeSpan.FromHours(1) }),
            "After" => (null, new JobSubmitOptions { After = [Guid.NewGuid()], Delay = TimeSpan.FromHours(1) }),
            "MaxAttempts" => (null, new JobSubmitOptions { MaxAttempts = 0 }),
            _ => (new string('x', 1024 * 1024), new JobSubmitOptions()),
        };

        var error = Assert.ThrowsAsync<ArgumentException>(() => Client.SubmitAsync("noop", payload, options));

        Assert.That(error!.ParamName, Is.EqualTo(option));
    }

    [Test, Description("A JSON payload holding an unpaired surrogate escape, which jsonb refuses, is refused naming the payload before any I/O: the caller's transaction is not aborted and the order can still commit.")]
    public async Task SubmitAsync_in_a_transaction_refuses_an_unpaired_surrogate_before_writing()
    {
        using var payload = System.Text.Json.JsonDocument.Parse("""{"note": "half an emoji \ud83d"}""");
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var error = Assert.ThrowsAsync<ArgumentException>(() => Client.SubmitAsync("noop", payload.RootElement, transaction));

        Assert.That(error!.ParamName, Is.EqualTo("payload"));
        await using var command = new NpgsqlCommand("SELECT 1", connection, transaction);
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo(1), "the transaction is still usable");
    }

    [Test, Description("A wait bounded only by the caller's token: Timeout.InfiniteTimeSpan, or a timeout too long to add to a date.")]
    public async Task WaitAsync_accepts_an_unbounded_timeout()
    {
        var id = await Client.SubmitAsync(RecordingJobHandler.JobType, new OrderPayload(1, "Ada"));
        using var token = new CancellationTokenSource(Bound);

        Assert.That((await Client.WaitAsync(id, Timeout.InfiniteTimeSpan, token.Token)).State, Is.EqualTo("Succeeded"));
        Assert.That((await Client.WaitAsync(id, TimeSpan.MaxValue, token.Token)).State, Is.EqualTo("Succeeded"));
    }

    [Test, Description("A new user's first mistake: the broker's address. The error names it and the settings, and keeps RabbitMQ's own as the inner exception.")]
    public void SubmitAsync_names_the_broker_and_its_settings_when_the_broker_is_unreachable()
    {
        var port = ClosedPort();
        using var app = UnreachableBrokerApp(port);

        var error = Assert.ThrowsAsync<InvalidOperationException>(() => app.Services.GetRequiredService<IJobClient>().SubmitAsync("noop"));

        Assert.That(error!.Message, Does.Contain($"127.0.0.1:{port}").And.Contain("RabbitMq:Host").And.Contain("RabbitMq:Hosts"));
        Assert.That(error.InnerException, Is.InstanceOf<RabbitMQ.Client.Exceptions.BrokerUnreachableException>());
    }

    [Test]
    public void WaitAsync_says_no_worker_answered_when_no_status_request_was_answered()
    {
        using var app = UnreachableBrokerApp(ClosedPort());

        var error = Assert.ThrowsAsync<TimeoutException>(() => app.Services.GetRequiredService<IJobClient>().WaitAsync(Guid.NewGuid(), TimeSpan.FromSeconds(1)));

        Assert.That(error!.Message, Does.Contain("no worker answered").And.Contain("JobClient:StatusTimeout").And.Contain(_worker.Queue + "-unserved"));
    }

    /// <summary>A client app, never started, whose broker address is a closed port: each call fails fast (connection refused).</summary>
    private IHost UnreachableBrokerApp(int port) => ClientApp(new()
    {
        ["Jobs:QueueName"] = _worker.Queue + "-unserved",
        ["RabbitMq:Host"] = "127.0.0.1",
        ["RabbitMq:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq:PublishTimeout"] = "00:00:02",
    });

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Enqueues a job (an empty object for its payload) in a transaction of its own, committed.</summary>
    private async Task<Guid> EnqueueAsync(string jobType, JobSubmitOptions? options = null)
    {
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var id = await Client.SubmitAsync(jobType, new { }, transaction, options);
        await transaction.CommitAsync();
        return id;
    }

    private static async Task<bool?> UncheckedAsync(Guid id) => (bool?)await ScalarAsync("SELECT unchecked FROM jobs WHERE id = $1", id);

    private static async Task<long> RowCountAsync(Guid id) => (long)(await ScalarAsync("SELECT count(*) FROM jobs WHERE id = $1", id))!;

    private static async Task<string?> PayloadAsync(Guid id) => (string?)await ScalarAsync("SELECT payload::text FROM jobs WHERE id = $1", id);

    /// <summary>Every column but the id and the times, which differ between any two jobs; run_at to the minute (both are due two hours on).</summary>
    private static async Task<string?> RowAsync(Guid id) => (string?)await ScalarAsync("""
        SELECT (to_jsonb(j) - 'id' - 'created_at' - 'updated_at' - 'run_at'
                || jsonb_build_object('due_in_minutes', round(extract(epoch FROM j.run_at - j.created_at) / 60)))::text
        FROM jobs j WHERE id = $1
        """, id);

    private static async Task<Guid[]> ParentsAsync(Guid id) => (Guid[])(await ScalarAsync("SELECT array_agg(parent_id ORDER BY parent_id) FROM job_parents WHERE job_id = $1", id))!;

    private static async Task<object?> ScalarAsync(string sql, Guid id)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = id } } };
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }
}
