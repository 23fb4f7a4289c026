using JobWorker.Jobs;
using MassTransit;
using MassTransit.RabbitMqTransport.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Messaging;

/// <summary>
/// Whether the deployment's jobs queue (and its <c>_error</c> and <c>_skipped</c> queues) is a RabbitMQ priority queue
/// (<c>x-max-priority</c> <see cref="MaxPriority"/>), so that a high-priority SubmitJob overtakes the ones already queued.
/// A queue declared before priorities existed keeps its declaration: RabbitMQ refuses to redeclare it with the argument
/// (PRECONDITION_FAILED), and the worker then runs with it as it is, with one warning, rather than not at all.
/// </summary>
/// <remarks>
/// The answer is needed when MassTransit configures the endpoint, which happens when the bus is first resolved: that
/// can be while the host builds its hosted services, before any of them starts. So the existing queues are probed
/// lazily, once, on first use, within <see cref="ProbeTimeout"/>: each is declared passively, then again with the
/// argument on a throwaway channel. Quorum queues (<c>RabbitMq:QueueType=quorum</c>) have no priorities before
/// RabbitMQ 4.0, so they are never probed or declared with it.
/// </remarks>
internal sealed partial class JobQueuePriority(IOptions<RabbitMqOptions> rabbit, IOptions<JobOptions> jobs, ILogger<JobQueuePriority> logger)
{
    /// <summary>The queue's <c>x-max-priority</c>: the highest job priority (<see cref="JobLimits.MaxPriority"/>).</summary>
    public const byte MaxPriority = JobLimits.MaxPriority;

    /// <summary>The README section that says how to move an existing queue to a priority queue.</summary>
    public const string UpgradeSection = "Moving the jobs queue to a priority queue";

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);

    private readonly Lazy<IReadOnlySet<string>> _lacking = new(() => Probe(rabbit.Value, jobs.Value, logger), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The jobs queue and its error and skipped queues: the ones declared with <c>x-max-priority</c>.</summary>
    public static IReadOnlyList<string> Queues(JobOptions options) =>
        [QueueNames.Jobs(options), QueueNames.Jobs(options) + "_error", QueueNames.Jobs(options) + "_skipped"];

    /// <summary>Whether <paramref name="queue"/>, one of <see cref="Queues"/>, is (or will be declared as) a priority queue.</summary>
    public bool IsPriorityQueue(string queue) =>
        rabbit.Value.QueueType == RabbitMqQueueType.Classic && Queues(jobs.Value).Contains(queue) && !_lacking.Value.Contains(queue);

    /// <summary>Declares the jobs endpoint's queue with <c>x-max-priority</c>, unless it exists without it.</summary>
    public void Configure(IReceiveEndpointConfigurator endpoint)
    {
        if (endpoint is IRabbitMqReceiveEndpointConfigurator queue && IsPriorityQueue(QueueNames.Jobs(jobs.Value)))
        {
            queue.EnablePriority(MaxPriority);
        }
    }

    /// <summary>
    /// MassTransit copies the endpoint's queue arguments to its <c>_error</c> and <c>_skipped</c> queues; each is declared
    /// by its own state instead (one that exists without <c>x-max-priority</c> as it is), or every move of a faulted or
    /// skipped message to it would fail while the jobs queue and it differ.
    /// </summary>
    public void ConfigureDeadLetters(IRabbitMqQueueBindingConfigurator settings)
    {
        if (settings is QueueBindingConfigurator { QueueName: { } name } && Queues(jobs.Value).Contains(name)
            && rabbit.Value.QueueType == RabbitMqQueueType.Classic)
        {
            settings.SetQueueArgument(RabbitMQ.Client.Headers.XMaxPriority, IsPriorityQueue(name) ? (int)MaxPriority : null!);
        }
    }

    private static IReadOnlySet<string> Probe(RabbitMqOptions rabbit, JobOptions jobs, ILogger logger)
    {
        if (rabbit.QueueType != RabbitMqQueueType.Classic)
        {
            return new HashSet<string>();
        }

        HashSet<string> lacking;
        try
        {
            // Called from MassTransit's synchronous configuration; the probe itself is bounded.
            lacking = Task.Run(() => FindLackingAsync(rabbit, jobs)).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            LogUnchecked(logger, e);
            return new HashSet<string>();
        }

        if (lacking.Count > 0)
        {
            LogLacking(logger, string.Join(", ", lacking), UpgradeSection);
        }

        return lacking;
    }

    private static async Task<HashSet<string>> FindLackingAsync(RabbitMqOptions rabbit, JobOptions jobs)
    {
        using var bound = new CancellationTokenSource(ProbeTimeout);
        var lacking = new HashSet<string>();
        Dictionary<string, object?> arguments = new() { [RabbitMQ.Client.Headers.XMaxPriority] = (int)MaxPriority };
        await using var connection = await rabbit.ConnectAsync("jobworker-queue-priority-check", bound.Token);
        foreach (var queue in Queues(jobs))
        {
            // A refused declare closes its channel: one channel per question.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: bound.Token);
            try
            {
                await channel.QueueDeclarePassiveAsync(queue, bound.Token);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
                continue;
            }

            await using var redeclare = await connection.CreateChannelAsync(cancellationToken: bound.Token);
            try
            {
                await redeclare.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: bound.Token);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406
                && e.ShutdownReason.ReplyText.Contains(RabbitMQ.Client.Headers.XMaxPriority, StringComparison.Ordinal))
            {
                lacking.Add(queue);
            }
        }

        await connection.CloseAsync(TimeSpan.FromSeconds(1));
        return lacking;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue(s) {Queues} were declared without x-max-priority, and RabbitMQ cannot add it to an existing queue: "
        + "the worker uses them as they are, so job priorities order only the ledger's dispatch and each replica's waits for a slot, not jobs already queued "
        + "in RabbitMQ. The README's \"{Section}\" section says how to move the queue without losing messages")]
    private static partial void LogLacking(ILogger logger, string queues, string section);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check whether the jobs queue is a priority queue before the bus starts; it is declared with x-max-priority")]
    private static partial void LogUnchecked(ILogger logger, Exception exception);
}
