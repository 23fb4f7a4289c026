using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>The durable CancelJob queue, <c>&lt;QueueName&gt;-cancel</c>, shared by every replica.</summary>
internal sealed class CancelJobConsumerDefinition : ConsumerDefinition<CancelJobConsumer>
{
    private readonly RabbitMqOptions _rabbit;

    public CancelJobConsumerDefinition(IOptions<JobOptions> options, IOptions<RabbitMqOptions> rabbit)
    {
        EndpointName = QueueNames.Cancel(options.Value);
        _rabbit = rabbit.Value;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CancelJobConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        DurableQueues.Configure(endpointConfigurator, _rabbit);
}

/// <summary>
/// A temporary queue per replica (<c>&lt;QueueName&gt;-cancel-&lt;worker id&gt;</c>, deleted when the replica goes), so a
/// CancelJob reaches the replica running the job at once. It stays a classic, exclusive queue whatever
/// <c>RabbitMq:QueueType</c> says: it lives and dies with its replica's connection, so there is nothing to replicate.
/// </summary>
internal sealed class CancelJobNoticeConsumerDefinition : ConsumerDefinition<CancelJobNoticeConsumer>
{
    private readonly string _cancelExchange;

    public CancelJobNoticeConsumerDefinition(IOptions<JobOptions> options, WorkerIdentity worker)
    {
        // The worker id is in the name itself: with an explicit EndpointName, MassTransit does not append InstanceId,
        // and two replicas would then contend for one exclusive queue.
        EndpointName = QueueNames.CancelNotices(options.Value, worker);
        Endpoint(endpoint => endpoint.Temporary = true);
        _cancelExchange = QueueNames.Cancel(options.Value);
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CancelJobNoticeConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Bound to the durable cancel queue's exchange rather than to the CancelJob type: whatever reaches the
        // deployment's cancel queue (a send to queue:<QueueName>-cancel, or a publish through the deployment's CancelJob
        // exchange, which is bound to it) reaches every replica's notice queue too, and nothing else does.
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.ConfigureConsumeTopology = false;
            rabbit.Bind(_cancelExchange);
        }
    }
}
