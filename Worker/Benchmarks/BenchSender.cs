using JobWorker.Messaging;
using MassTransit;

namespace JobWorker.Benchmarks;

/// <summary>How the scenarios send SubmitJob to a bench queue: as any publisher does, through <see cref="DurableQueues.JobsSendAddressAsync"/>.</summary>
internal sealed class BenchSender(ISendEndpointProvider provider, RabbitMqOptions rabbit)
{
    /// <summary>The send endpoint of jobs queue <paramref name="queue"/>, declared as a priority queue if no worker declared it yet.</summary>
    public async Task<ISendEndpoint> JobsQueueAsync(string queue, CancellationToken cancellationToken) =>
        await provider.GetSendEndpoint(await DurableQueues.JobsSendAddressAsync(queue, rabbit, cancellationToken));
}
