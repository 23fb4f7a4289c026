using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// A temporary queue per replica (<c>&lt;QueueName&gt;-cancel-&lt;worker id&gt;</c>, deleted when the replica goes), so a
/// published CancelJob reaches every replica, including the one running the job.
/// </summary>
public sealed class CancelJobConsumerDefinition : ConsumerDefinition<CancelJobConsumer>
{
    public CancelJobConsumerDefinition(IOptions<JobOptions> options, WorkerIdentity worker)
    {
        // The worker id is in the name itself: with an explicit EndpointName, MassTransit does not append InstanceId,
        // and two replicas would then contend for one exclusive queue.
        EndpointName = $"{options.Value.QueueName}-cancel-{worker.Id}";
        Endpoint(endpoint => endpoint.Temporary = true);
    }
}
