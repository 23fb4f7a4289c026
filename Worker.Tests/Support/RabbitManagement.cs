using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace JobWorker.Tests;

/// <summary>RabbitMQ's management HTTP API: publish like a non-.NET client, and look into queues.</summary>
internal sealed class RabbitManagement(int managementPort) : IDisposable
{
    private readonly HttpClient _http = new()
    {
        BaseAddress = new Uri($"http://{TestEnvironment.Host}:{managementPort}"),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray())) },
        Timeout = TimeSpan.FromSeconds(15),
    };

    /// <summary>The management API of the node the tests use (node 1).</summary>
    public RabbitManagement()
        : this(TestEnvironment.RabbitManagementPort)
    {
    }

    /// <summary>The node that holds <paramref name="queue"/>: a quorum queue's leader, a classic queue's node.</summary>
    public async Task<string> QueueLeaderAsync(string queue)
    {
        var info = await _http.GetFromJsonAsync<JsonElement>($"/api/queues/%2F/{Uri.EscapeDataString(queue)}");
        return info.TryGetProperty("leader", out var leader) && leader.ValueKind == JsonValueKind.String
            ? leader.GetString()!
            : info.GetProperty("node").GetString()!;
    }

    /// <summary>Publishes <paramref name="body"/> to the exchange; returns whether RabbitMQ routed it to a queue.</summary>
    public Task<bool> PublishAsync(string exchange, string body, string contentType = "application/json", string vhost = "/") =>
        PublishAsync(exchange, body, "string", contentType, vhost);

    /// <summary>Publishes raw bytes, which need not be valid UTF-8.</summary>
    public Task<bool> PublishAsync(string exchange, byte[] body, string contentType = "application/json") =>
        PublishAsync(exchange, Convert.ToBase64String(body), "base64", contentType, "/");

    private async Task<bool> PublishAsync(string exchange, string payload, string encoding, string contentType, string vhost)
    {
        var response = await _http.PostAsJsonAsync($"/api/exchanges/{Uri.EscapeDataString(vhost)}/{exchange}/publish", new
        {
            properties = new { content_type = contentType, delivery_mode = 2 },
            routing_key = "",
            payload,
            payload_encoding = encoding,
        });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("routed").GetBoolean();
    }

    /// <summary>Deletes a queue and what it holds; a queue that does not exist is fine.</summary>
    public async Task DeleteQueueAsync(string queue, string vhost = "/")
    {
        var response = await _http.DeleteAsync($"/api/queues/{Uri.EscapeDataString(vhost)}/{queue}");
        if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>
    /// Deletes what a worker on <paramref name="queue"/> declared: its job, status and cancel queues, their error and skipped
    /// queues, the exchanges of the same names, and its deployment's message-type exchanges (<c>&lt;queue&gt;:...</c>). A
    /// broker holding fewer queues restarts faster in the next fault test.
    /// </summary>
    public async Task DeleteWorkerQueuesAsync(string queue)
    {
        try
        {
            foreach (var name in new[] { queue, $"{queue}-status", $"{queue}-cancel" })
            {
                foreach (var each in new[] { name, $"{name}_error", $"{name}_skipped" })
                {
                    await DeleteQueueAsync(each);
                    using var exchange = await _http.DeleteAsync($"/api/exchanges/%2F/{each}");
                }
            }

            using var exchanges = await _http.GetAsync("/api/exchanges/%2F?columns=name");
            foreach (var name in (await exchanges.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()
                         .Select(e => e.GetProperty("name").GetString()!).Where(n => n.StartsWith($"{queue}:", StringComparison.Ordinal)))
            {
                using var deleted = await _http.DeleteAsync($"/api/exchanges/%2F/{Uri.EscapeDataString(name)}");
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Tidying only: a broker that is away keeps them, and nothing depends on their absence.
        }
    }

    /// <summary>Declares a durable fanout exchange (as MassTransit does) and binds it to another, as a test arranges.</summary>
    public async Task BindExchangesAsync(string source, string destination)
    {
        foreach (var exchange in new[] { source, destination })
        {
            (await _http.PutAsJsonAsync($"/api/exchanges/%2F/{Uri.EscapeDataString(exchange)}", new { type = "fanout", durable = true })).EnsureSuccessStatusCode();
        }

        (await _http.PostAsJsonAsync($"/api/bindings/%2F/e/{Uri.EscapeDataString(source)}/e/{Uri.EscapeDataString(destination)}", new { routing_key = "" }))
            .EnsureSuccessStatusCode();
    }

    /// <summary>Declares a durable queue (of <paramref name="type"/>) and the exchange of the same name bound to it, as a MassTransit endpoint does.</summary>
    public async Task DeclareQueueAsync(string queue, string type = "classic")
    {
        var arguments = type == "classic" ? new Dictionary<string, string>() : new() { ["x-queue-type"] = type };
        (await _http.PutAsJsonAsync($"/api/queues/%2F/{queue}", new { durable = true, arguments })).EnsureSuccessStatusCode();
        (await _http.PutAsJsonAsync($"/api/exchanges/%2F/{queue}", new { type = "fanout", durable = true })).EnsureSuccessStatusCode();
        (await _http.PostAsJsonAsync($"/api/bindings/%2F/e/{queue}/q/{queue}", new { routing_key = "" })).EnsureSuccessStatusCode();
    }

    /// <summary>A queue's type as the broker reports it (<c>classic</c>, <c>quorum</c>), or null when it does not exist.</summary>
    public async Task<string?> QueueTypeAsync(string queue)
    {
        using var response = await _http.GetAsync($"/api/queues/%2F/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString();
    }

    /// <summary>A queue as the management API describes it (type, exclusive, auto_delete, arguments...).</summary>
    public async Task<JsonElement> QueueAsync(string queue)
    {
        using var response = await _http.GetAsync($"/api/queues/%2F/{Uri.EscapeDataString(queue)}");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Deletes an exchange; one that does not exist is fine.</summary>
    public async Task DeleteExchangeAsync(string exchange)
    {
        using var response = await _http.DeleteAsync($"/api/exchanges/%2F/{Uri.EscapeDataString(exchange)}");
        if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The exchanges and queues <paramref name="source"/> is bound to (none when it does not exist).</summary>
    public async Task<List<string>> DestinationsAsync(string source)
    {
        var response = await _http.GetAsync($"/api/exchanges/%2F/{Uri.EscapeDataString(source)}/bindings/source");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(b => b.GetProperty("destination").GetString()!)];
    }

    /// <summary>Drops every message waiting in a queue (what an operator's purge does).</summary>
    public async Task PurgeQueueAsync(string queue)
    {
        var response = await _http.DeleteAsync($"/api/queues/%2F/{queue}/contents");
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Creates a virtual host and lets guest use it.</summary>
    public async Task CreateVirtualHostAsync(string vhost)
    {
        var name = Uri.EscapeDataString(vhost);
        (await _http.PutAsJsonAsync($"/api/vhosts/{name}", new { })).EnsureSuccessStatusCode();
        (await _http.PutAsJsonAsync($"/api/permissions/{name}/guest", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
    }

    public async Task DeleteVirtualHostAsync(string vhost) =>
        await _http.DeleteAsync($"/api/vhosts/{Uri.EscapeDataString(vhost)}");

    /// <summary>Reads (and requeues) up to <paramref name="count"/> messages of a queue, with their headers.</summary>
    public async Task<List<JsonElement>> PeekAsync(string queue, int count = 10)
    {
        var response = await _http.PostAsJsonAsync($"/api/queues/%2F/{queue}/get",
            new { count, ackmode = "ack_requeue_true", encoding = "auto" });
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray()];
    }

    /// <summary>Waits (bounded) until the queue holds at least <paramref name="count"/> messages, and returns them.</summary>
    public Task<List<JsonElement>> WaitForMessagesAsync(string queue, int count, TimeSpan timeout) =>
        Eventually.WaitForAsync(() => PeekAsync(queue, count), m => m.Count >= count, timeout, $"{count} messages in {queue}");

    /// <summary>A message's body as text, whichever encoding the management API chose for it.</summary>
    public static string Body(JsonElement message) =>
        message.GetProperty("payload_encoding").GetString() == "base64"
            ? System.Text.Encoding.Latin1.GetString(Convert.FromBase64String(message.GetProperty("payload").GetString()!))
            : message.GetProperty("payload").GetString()!;

    public static string Header(JsonElement message, string name) =>
        message.GetProperty("properties").TryGetProperty("headers", out var headers) && headers.TryGetProperty(name, out var value)
            ? value.ToString()
            : "";

    public void Dispose() => _http.Dispose();
}
