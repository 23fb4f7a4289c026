using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using JobWorker.Hosting;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>
/// samples/OrderApi, an ASP.NET minimal API built against the packed JobWorker.Client package (`make sample`, which
/// `make test` runs first), run as a process against the real services, with a worker that runs its
/// <c>order-confirmation</c> jobs (the recording test handler under that type). One app and one worker for the fixture.
/// </summary>
[NonParallelizable]
public sealed class OrderApiSampleTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private TestWorker _worker = null!;
    private WorkerProcess _app = null!;
    private HttpClient _http = null!;

    private static string SampleAssembly => SampleBuild.Assembly("OrderApi", "orderapi.dll");

    [OneTimeSetUp]
    public async Task StartWorkerAndApp()
    {
        Assert.That(File.Exists(SampleAssembly), Is.True, $"{SampleAssembly} is not built: run `make sample` (`make test` does)");
        _worker = await TestWorker.StartAsync(worker: w => w.AddJobHandler<RecordingJobHandler>("order-confirmation"));
        (_app, _http) = await StartAppAsync(_worker.Queue);
    }

    private static async Task<(WorkerProcess App, HttpClient Http)> StartAppAsync(string queue, string statusTimeout = "00:00:30")
    {
        var port = FreePort();
        var app = WorkerProcess.Start(SampleAssembly, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Orders"] = TestEnvironment.ConnectionString(),
            ["RabbitMq:Host"] = TestEnvironment.Host,
            ["RabbitMq:Port"] = TestEnvironment.RabbitPort.ToString(),
            ["Jobs:QueueName"] = queue,
            ["JobClient:StatusTimeout"] = statusTimeout,
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Health:Port"] = port.ToString(),
        });
        await app.WaitUntilReadyAsync(Bound);
        return (app, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Bound });
    }

    [OneTimeTearDown]
    public async Task StopWorkerAndApp()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }
    }

    [Test, Description("POST /orders?wait=true commits the order and its job, then waits through IJobClient.WaitAsync.")]
    public async Task A_committed_order_has_its_confirmation_job_run()
    {
        using var response = await _http.PostAsJsonAsync("/orders?wait=true", new { customer = "Ada", amount = 12.5m });
        var body = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), body + _app.Output);
        var view = JsonDocument.Parse(body).RootElement;
        var id = view.GetProperty("jobId").GetGuid();
        Assert.That(view.GetProperty("jobState").GetString(), Is.EqualTo("Succeeded"), body);
        Assert.That(view.GetProperty("order").GetProperty("id").GetGuid(), Is.EqualTo(id), "the job's id is the order's");
        Assert.That(_worker.Runs.For(id), Is.EqualTo(1));
    }

    [Test]
    public async Task GET_orders_returns_the_order_and_its_jobs_status()
    {
        using var placed = await _http.PostAsJsonAsync("/orders?wait=true", new { customer = "Grace", amount = 3m });
        Assert.That(placed.StatusCode, Is.EqualTo(HttpStatusCode.Created), await placed.Content.ReadAsStringAsync() + _app.Output);
        var id = (await placed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetGuid();

        var view = await _http.GetFromJsonAsync<JsonElement>($"/orders/{id}");

        Assert.That(view.GetProperty("order").GetProperty("customer").GetString(), Is.EqualTo("Grace"));
        Assert.That(view.GetProperty("jobState").GetString(), Is.EqualTo("Succeeded"));
    }

    [Test, Description("A retried request whose order did commit: 409 Conflict, and the job is neither enqueued nor run again.")]
    public async Task An_order_id_that_exists_answers_409_Conflict()
    {
        var id = Guid.NewGuid();
        using var first = await _http.PostAsJsonAsync("/orders", new { id, customer = "Barbara", amount = 2m });
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created), await first.Content.ReadAsStringAsync() + _app.Output);

        using var again = await _http.PostAsJsonAsync("/orders", new { id, customer = "Barbara", amount = 2m });

        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), await again.Content.ReadAsStringAsync() + _app.Output);
        Assert.That(await CountAsync("SELECT count(*) FROM jobs WHERE id = $1", id), Is.EqualTo(1));
    }

    [Test, Description("The order commits, then no worker answers the status request: still 201, the job's state Unknown (it used to be 500).")]
    public async Task A_committed_order_answers_201_with_state_Unknown_when_no_worker_answers()
    {
        var (app, http) = await StartAppAsync(_worker.Queue + "-unserved", statusTimeout: "00:00:00.5");
        try
        {
            var id = Guid.NewGuid();

            using var response = await http.PostAsJsonAsync("/orders", new { id, customer = "Margaret", amount = 5m });
            var body = await response.Content.ReadAsStringAsync();

            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), body + app.Output);
            Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("jobState").GetString(), Is.EqualTo("Unknown"), body);
            Assert.That(await CountAsync("SELECT count(*) FROM orders WHERE id = $1", id), Is.EqualTo(1));
        }
        finally
        {
            http.Dispose();
            await app.DisposeAsync();
        }
    }

    [Test, Description("?fail=true throws after the order and its job were written: neither is left, and no worker sees the job.")]
    public async Task A_rolled_back_order_leaves_no_order_and_no_job()
    {
        var id = Guid.NewGuid();

        using var response = await _http.PostAsJsonAsync("/orders?fail=true", new { id, customer = "Linus", amount = 1m });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(await CountAsync("SELECT count(*) FROM orders WHERE id = $1", id), Is.Zero, "no order");
        Assert.That(await CountAsync("SELECT count(*) FROM jobs WHERE id = $1", id), Is.Zero, "no job");
        using var missing = await _http.GetAsync($"/orders/{id}");
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(_worker.Runs.For(id), Is.Zero);
    }

    private static async Task<long> CountAsync(string sql, Guid id)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = id } } };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
