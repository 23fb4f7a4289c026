using RabbitMQ.Client;

namespace JobWorker.Client;

/// <summary>
/// What <see cref="JobsQueue"/> needs of a broker's settings: <paramref name="Key"/> tells brokers (and virtual hosts)
/// apart, <paramref name="Classic"/> whether the jobs queues are classic (declared by a send) or quorum,
/// <paramref name="DeclareBound"/> how long a declare may take, and <paramref name="ConnectAsync"/> opens a plain
/// connection for it.
/// </summary>
internal sealed record JobsQueueBroker(
    string Key, bool Classic, TimeSpan DeclareBound, Func<string, CancellationToken, Task<IConnection>> ConnectAsync);
