using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>The SubmitJob endpoint: its queue name, how many jobs run at once, and raw JSON support for non-.NET publishers.</summary>
public sealed class SubmitJobConsumerDefinition : ConsumerDefinition<SubmitJobConsumer>
{
    private readonly JobOptions _options;

    public SubmitJobConsumerDefinition(IOptions<JobOptions> options)
    {
        _options = options.Value;
        EndpointName = _options.QueueName;
        ConcurrentMessageLimit = _options.ConcurrentJobs;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SubmitJobConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.ConcurrentJobs;

        // A publisher that is not .NET sends a bare SubmitJob JSON body with content type application/json.
        endpointConfigurator.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType);
    }
}
