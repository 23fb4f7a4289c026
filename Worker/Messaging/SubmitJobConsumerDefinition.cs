using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>The SubmitJob endpoint: its queue (a priority queue), how many deliveries are taken at once, and raw JSON support for non-.NET publishers.</summary>
internal sealed class SubmitJobConsumerDefinition : ConsumerDefinition<SubmitJobConsumer>
{
    private readonly JobOptions _options;
    private readonly RabbitMqOptions _rabbit;

    private readonly JobQueuePriority _priority;

    public SubmitJobConsumerDefinition(IOptions<JobOptions> options, IOptions<RabbitMqOptions> rabbit, JobQueuePriority priority)
    {
        _options = options.Value;
        _rabbit = rabbit.Value;
        _priority = priority;
        EndpointName = QueueNames.Jobs(_options);

        // A delivery holds a consume only while it waits for a job slot and is accepted and claimed; the handler runs
        // in the slot after the delivery is acknowledged.
        ConcurrentMessageLimit = _options.ConcurrentJobs;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SubmitJobConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.ConcurrentJobs;
        DurableQueues.Configure(endpointConfigurator, _rabbit);

        // A priority queue hands out the highest-priority message first, among those not yet prefetched; the prefetch is
        // the slots, whose waiters are served by priority too (JobSlots).
        _priority.Configure(endpointConfigurator);

        // A publisher that is not .NET sends a bare SubmitJob JSON body with content type application/json.
        endpointConfigurator.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType);
    }
}
