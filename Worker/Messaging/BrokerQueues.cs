using JobWorker.Jobs;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Messaging;

/// <summary>
/// Asks RabbitMQ how deep JobWorker's queues are and how many consumers each has: a passive declare per queue over
/// AMQP, so it needs no management plugin and no extra port. One connection, opened on first use and replaced when it
/// breaks; every call is bounded by <c>RabbitMq:PublishTimeout</c>, so a page never waits on the broker for long.
/// </summary>
internal sealed class BrokerQueues(IOptions<RabbitMqOptions> rabbit, IOptions<JobOptions> jobs) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    /// <summary>The queues an operator watches: jobs, cancels, status requests, and the dead letters MassTransit moves faulted deliveries to.</summary>
    public IReadOnlyList<string> Watched { get; } =
    [
        QueueNames.Jobs(jobs.Value),
        QueueNames.Cancel(jobs.Value),
        QueueNames.Status(jobs.Value),
        $"{QueueNames.Jobs(jobs.Value)}_error",
        $"{QueueNames.Jobs(jobs.Value)}_skipped",
    ];

    /// <summary>Each watched queue's depth and consumers; a queue that does not exist is reported absent, not as an error.</summary>
    public async Task<IReadOnlyList<QueueDepth>> ReadAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(rabbit.Value.PublishTimeout);
        await _gate.WaitAsync(bound.Token);
        try
        {
            var connection = await ConnectAsync(bound.Token);
            var depths = new List<QueueDepth>(Watched.Count);
            foreach (var queue in Watched)
            {
                depths.Add(await ReadAsync(connection, queue, bound.Token));
            }

            return depths;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await DropConnectionAsync();
            throw new BrokerUnavailableException(
                e is OperationCanceledException ? $"RabbitMQ did not answer within {rabbit.Value.PublishTimeout.TotalSeconds:0.#} s" : e.Message, e);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<QueueDepth> ReadAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        // A passive declare of a missing queue closes its channel: one channel per question keeps the others usable.
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            var answer = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            return new QueueDepth(queue, true, answer.MessageCount, answer.ConsumerCount);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return new QueueDepth(queue, false, 0, 0);
        }
    }

    private async Task<IConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }

        await DropConnectionAsync();
        _connection = await rabbit.Value.ConnectAsync("jobworker-dashboard", cancellationToken);
        return _connection;
    }

    private async Task DropConnectionAsync()
    {
        var connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null)
        {
            try
            {
                await connection.CloseAsync(TimeSpan.FromSeconds(1));
            }
            catch (Exception)
            {
                // Already broken: it is being replaced.
            }

            connection.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DropConnectionAsync();
        _gate.Dispose();
    }
}

/// <summary>One queue as the broker reports it.</summary>
internal sealed record QueueDepth(string Queue, bool Exists, uint Messages, uint Consumers);

/// <summary>The broker could not be asked; the message says why.</summary>
internal sealed class BrokerUnavailableException(string message, Exception inner) : Exception(message, inner);
