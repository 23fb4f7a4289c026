using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>Status requests get their own queue, so they are answered even while every job slot is busy.</summary>
internal sealed class GetJobStatusConsumerDefinition : ConsumerDefinition<GetJobStatusConsumer>
{
    public GetJobStatusConsumerDefinition(IOptions<JobOptions> options)
    {
        EndpointName = QueueNames.Status(options.Value);
        ConcurrentMessageLimit = 8;
    }
}
