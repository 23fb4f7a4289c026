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

    /// <summary>The probe's answer when it could not ask: none known to lack the argument, so all are declared with it.</summary>
    private static readonly IReadOnlySet<string> NotChecked = new HashSet<string>();

    private readonly Lazy<IReadOnlySet<string>> _lacking = new(() => Probe(rabbit.Value, jobs.Value, logger), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether the probe has run: MassTransit has configured the jobs endpoint on its answer.</summary>
    public bool Probed => _lacking.IsValueCreated;

    /// <summary>
    /// Whether the probe could not reach RabbitMQ, so every queue of <see cref="Queues"/> was declared with
    /// <c>x-max-priority</c> unchecked (<see cref="JobQueuePriorityRecheck"/> checks them once RabbitMQ answers).
    /// </summary>
    public bool Unchecked => Probed && ReferenceEquals(_lacking.Value, NotChecked);

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

        IReadOnlySet<string> lacking;
        try
        {
            // Called from MassTransit's synchronous configuration; the probe itself is bounded.
            lacking = Task.Run(() => FindLackingAsync(rabbit, jobs, CancellationToken.None)).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            if (BrokerErrors.IsUnreachable(e))
            {
                // The broker unreachable, said in one line: the stack adds nothing, and BusStarter then reports the wait every few seconds.
                LogUncheckedUnreachable(logger, BrokerErrors.Reason(e));
            }
            else
            {
                LogUnchecked(logger, e);
            }

            return NotChecked;
        }

        if (lacking.Count > 0)
        {
            LogLacking(logger, string.Join(", ", lacking), UpgradeSection);
        }

        return lacking;
    }

    /// <summary>
    /// After a probe that could not reach RabbitMQ: the existing queues of <see cref="Queues"/> that lack
    /// <c>x-max-priority</c>, which MassTransit was told to declare with it and RabbitMQ refuses for ever. Bounded by
    /// <see cref="ProbeTimeout"/>; throws when RabbitMQ still does not answer.
    /// </summary>
    public async Task<IReadOnlyList<string>> FindDisagreementsAsync(CancellationToken cancellationToken) =>
        [.. (await FindLackingAsync(rabbit.Value, jobs.Value, cancellationToken)).Order(StringComparer.Ordinal)];

    /// <summary>What stops the worker when <see cref="FindDisagreementsAsync"/> finds <paramref name="queues"/>.</summary>
    public static string DisagreementMessage(IReadOnlyList<string> queues) =>
        $"Queue(s) {string.Join(", ", queues)} exist without x-max-priority, but RabbitMQ did not answer when the worker started, so it "
        + "declared them with it, which RabbitMQ refuses (PRECONDITION_FAILED): no job would ever be consumed. The worker stops so that "
        + "its next start checks again and uses them as they are; the README's \"" + UpgradeSection + "\" section says how to move "
        + "them to priority queues without losing messages.";

    private static async Task<HashSet<string>> FindLackingAsync(RabbitMqOptions rabbit, JobOptions jobs, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(ProbeTimeout);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check whether the jobs queue is a priority queue before the bus starts; it is declared with x-max-priority, and checked again when RabbitMQ answers")]
    private static partial void LogUnchecked(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check whether the jobs queue is a priority queue before the bus starts, RabbitMQ is unreachable ({Reason}); it is declared with x-max-priority, and checked again when RabbitMQ answers")]
    private static partial void LogUncheckedUnreachable(ILogger logger, string reason);
}
