using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>Status requests get their own queue, so they are answered even while every job slot is busy.</summary>
internal sealed class GetJobStatusConsumerDefinition : ConsumerDefinition<GetJobStatusConsumer>
{
    private readonly RabbitMqOptions _rabbit;

    public GetJobStatusConsumerDefinition(IOptions<JobOptions> options, IOptions<RabbitMqOptions> rabbit)
    {
        EndpointName = QueueNames.Status(options.Value);
        ConcurrentMessageLimit = 8;
        _rabbit = rabbit.Value;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<GetJobStatusConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        DurableQueues.Configure(endpointConfigurator, _rabbit);
}
