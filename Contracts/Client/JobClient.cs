using System.Diagnostics;
using JobWorker.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Client;

/// <summary>
/// <see cref="IJobClient"/> over the app's MassTransit bus (RabbitMQ, on the deployment's broker) and, for the
/// transactional enqueue, the caller's own Npgsql transaction. Every broker call is bounded by <c>RabbitMq:PublishTimeout</c>
/// or <c>JobClient:StatusTimeout</c>.
/// </summary>
internal sealed partial class JobClient(IBus bus, IOptions<JobClientOptions> options, ILogger<JobClient> logger) : IJobClient
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromSeconds(1);

    private JobClientOptions Options => options.Value;

    private bool Quorum => Options.RabbitMq.QueueType == JobClientQueueType.Quorum;

    /// <summary>A send cannot declare a quorum queue, so requests to one go to its exchange, which the workers bind to it.</summary>
    private Uri QueueAddress(string queue) => Quorum ? new Uri($"exchange:{queue}") : new Uri($"queue:{queue}");

    public Task<Guid> SubmitAsync<TPayload>(string jobType, TPayload payload, JobSubmitOptions? options = null, CancellationToken cancellationToken = default) =>
        SubmitAsync(jobType, (object?)payload, options, cancellationToken);

    public async Task<Guid> SubmitAsync(string jobType, object? payload = null, JobSubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        var submission = JobSubmission.Create(jobType, payload, options, Options.MaxPayloadBytes);
        var message = submission.Message;
        await OnBrokerAsync(async token =>
        {
            var address = await JobsQueue.SendAddressAsync(Options.QueueName, _broker ??= Broker(), token);
            var endpoint = await bus.GetSendEndpoint(address).WaitAsync(token);
            await endpoint.Send(message, context =>
            {
                JobsQueue.Priority(context, message.Priority);
                JobsQueue.Mandatory(context);
            }, token).WaitAsync(token);
        }, cancellationToken);
        LogSubmitted(logger, message.JobId, message.JobType, Options.QueueName);
        return message.JobId;
    }

    public Task<Guid> SubmitAsync<TPayload>(string jobType, TPayload payload, NpgsqlTransaction transaction, JobSubmitOptions? options = null, CancellationToken cancellationToken = default) =>
        SubmitAsync(jobType, (object?)payload, transaction, options, cancellationToken);

    public async Task<Guid> SubmitAsync(string jobType, object? payload, NpgsqlTransaction transaction, JobSubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection
            ?? throw new ArgumentException("The transaction is already committed or rolled back.", nameof(transaction));
        var submission = JobSubmission.Create(jobType, payload, options, Options.MaxPayloadBytes);
        var message = submission.Message;
        var continuation = message.After is { Count: > 0 };
        await using var command = new NpgsqlCommand(continuation ? LedgerSql.EnqueueAwaiting : LedgerSql.Enqueue, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = message.JobId, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = message.JobType, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = Options.QueueName, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = submission.PayloadJson, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = message.MaxAttempts ?? Options.DefaultMaxAttempts, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.Timeout ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Interval });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.CorrelationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        if (continuation)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = message.After!.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            command.Parameters.Add(new NpgsqlParameter { Value = message.AfterAny, NpgsqlDbType = NpgsqlDbType.Boolean });
        }
        else
        {
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.RunAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.Delay ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Interval });
        }

        command.Parameters.Add(new NpgsqlParameter { Value = (short)message.Priority, NpgsqlDbType = NpgsqlDbType.Smallint });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.ConcurrencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogEnqueued(logger, message.JobId, message.JobType, Options.QueueName);
        return message.JobId;
    }

    public async Task<JobStatus> GetStatusAsync(Guid jobId, CancellationToken cancellationToken = default) =>
        await GetStatusAsync(jobId, Options.StatusTimeout, cancellationToken);

    /// <summary>A wait's last request may have less than a millisecond left; MassTransit refuses a timeout of 0.</summary>
    private async Task<JobStatus> GetStatusAsync(Guid jobId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bound = Bound(timeout, cancellationToken);
        var client = bus.CreateRequestClient<GetJobStatus>(QueueAddress($"{Options.QueueName}-status"), RequestTimeout.After(ms: Math.Max(1, (int)Math.Ceiling(timeout.TotalMilliseconds))));
        var response = await client.GetResponse<JobStatus>(new GetJobStatus { JobId = jobId }, bound.Token).WaitAsync(bound.Token);
        return response.Message;
    }

    public async Task<JobStatus> WaitAsync(Guid jobId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        }

        // Elapsed time, not a deadline date: a timeout of TimeSpan.MaxValue cannot be added to a date, and an infinite one
        // never runs out.
        var waited = Stopwatch.StartNew();
        TimeSpan Left() => timeout == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : timeout - waited.Elapsed;
        var pause = FirstPoll;
        string? last = null;
        while (true)
        {
            var left = Left();
            if (left > TimeSpan.Zero)
            {
                try
                {
                    var status = await GetStatusAsync(jobId, Min(left, Options.StatusTimeout), cancellationToken);
                    if (status.State is "Succeeded" or "Failed" or "Cancelled")
                    {
                        return status;
                    }

                    last = status.Found ? status.State : "not found";
                }
                catch (RequestTimeoutException) when (!cancellationToken.IsCancellationRequested)
                {
                    // No worker answered within the bound: asked again until the wait's own deadline.
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }
            }

            left = Left();
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException(last is not null
                    ? $"Job {jobId} did not finish within {timeout}; its last state was {last}."
                    : $"Job {jobId}: no worker answered a status request within {timeout} (each waits at most JobClient:StatusTimeout, " +
                      $"{Options.StatusTimeout}); is a worker of queue {Options.QueueName} running, and is the broker ({BrokerAddress}) reachable?");
            }

            await Task.Delay(Min(pause, left), cancellationToken);
            pause = Min(pause * 2, LongestPoll);
        }
    }

    public async Task CancelAsync(Guid jobId, string? reason = null, CancellationToken cancellationToken = default)
    {
        await OnBrokerAsync(async token =>
        {
            var endpoint = await bus.GetSendEndpoint(QueueAddress($"{Options.QueueName}-cancel")).WaitAsync(token);
            await endpoint.Send(new CancelJob { JobId = jobId, Reason = reason }, context => JobsQueue.Mandatory(context), token).WaitAsync(token);
        }, cancellationToken);
    }

    /// <summary>The nodes the client connects to, for messages: <c>host:port</c>, comma-separated.</summary>
    private string BrokerAddress => BrokerNode.Describe(Options.RabbitMq.Nodes());

    /// <summary>
    /// A send (and the jobs queue's declare), bounded by <c>RabbitMq:PublishTimeout</c>. A broker that cannot be reached
    /// fails with a message naming its address and the settings to check, not RabbitMQ.Client's "None of the specified
    /// endpoints were reachable"; its exception is kept as the inner one.
    /// </summary>
    private async Task OnBrokerAsync(Func<CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        using var bound = Bound(Options.RabbitMq.PublishTimeout, cancellationToken);
        try
        {
            await send(bound.Token);
        }
        catch (BrokerUnreachableException e)
        {
            throw new InvalidOperationException(
                $"The RabbitMQ broker at {BrokerAddress} could not be reached; check RabbitMq:Host and RabbitMq:Port (or RabbitMq:Hosts), " +
                "RabbitMq:VirtualHost and the credentials, and that the broker is running.", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The RabbitMQ broker at {BrokerAddress} did not take the message within RabbitMq:PublishTimeout ({Options.RabbitMq.PublishTimeout}); " +
                "check RabbitMq:Host and RabbitMq:Port (or RabbitMq:Hosts) and that the broker is running.", e);
        }
    }

    // Built at the first send, not once per submission: the options do not change.
    private JobsQueueBroker? _broker;

    private JobsQueueBroker Broker()
    {
        var rabbit = Options.RabbitMq;
        var nodes = rabbit.Nodes();
        return new JobsQueueBroker($"{nodes[0]}{rabbit.VirtualHost}", rabbit.QueueType == JobClientQueueType.Classic, rabbit.PublishTimeout,
            (name, ct) => BrokerConnection.ConnectAsync(nodes, rabbit.VirtualHost, rabbit.Username, rabbit.Password, rabbit.PublishTimeout, name, ct));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static CancellationTokenSource Bound(TimeSpan bound, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(bound);
        return source;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Submitted job {JobId} ({JobType}) to queue {Queue}")]
    private static partial void LogSubmitted(ILogger logger, Guid jobId, string jobType, string queue);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Enqueued job {JobId} ({JobType}) for queue {Queue} in the caller's transaction")]
    private static partial void LogEnqueued(ILogger logger, Guid jobId, string jobType, string queue);
}
