using System.Diagnostics;
using JobWorker.Hosting;

namespace JobWorker.Tests;

/// <summary>
/// Polls every replica's <c>/health/ready</c> and, at the same moment, which cluster nodes the kernel says it holds an
/// AMQP connection to, while a test takes a node away: what each replica claimed, beside what was true.
/// </summary>
internal sealed class ReadinessProbe : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly List<Sample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _polling;
    private int _lostNode;

    private ReadinessProbe(IReadOnlyList<WorkerProcess> workers) => _polling = Task.Run(() => PollAsync(workers));

    /// <summary>One observation of one replica.</summary>
    /// <param name="Worker">The replica's process id.</param>
    /// <param name="At">Time since the probe started.</param>
    /// <param name="LostNode">The cluster node that was down at the time, 0 if none.</param>
    /// <param name="Ready">Whether <c>/health/ready</c> answered 200.</param>
    /// <param name="Connected">The nodes the replica held an established AMQP connection to, read right after the answer.</param>
    public sealed record Sample(int Worker, TimeSpan At, int LostNode, bool Ready, IReadOnlySet<int> Connected)
    {
        /// <summary>Connected to a node that serves.</summary>
        public bool ConnectedToLiveNode => Connected.Any(n => n != LostNode);
    }

    public static ReadinessProbe Start(IReadOnlyList<WorkerProcess> workers) => new(workers);

    /// <summary>From now on, samples are taken with <paramref name="node"/> down (0: all nodes up again).</summary>
    public void NodeLost(int node) => Volatile.Write(ref _lostNode, node);

    public IReadOnlyList<Sample> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>Samples taken while a node was down.</summary>
    public IReadOnlyList<Sample> DuringOutage => [.. Samples.Where(s => s.LostNode != 0)];

    /// <summary>
    /// The longest stretch, per replica, during the outage in which it said it was ready while holding no connection to a
    /// node that serves: how long its readiness was a lie.
    /// </summary>
    public TimeSpan LongestReadyWhileDisconnected(int worker)
    {
        var longest = TimeSpan.Zero;
        TimeSpan? since = null;
        foreach (var sample in DuringOutage.Where(s => s.Worker == worker))
        {
            if (sample.Ready && !sample.ConnectedToLiveNode)
            {
                since ??= sample.At;
                longest = sample.At - since.Value > longest ? sample.At - since.Value : longest;
            }
            else
            {
                since = null;
            }
        }

        return longest;
    }

    private async Task PollAsync(IReadOnlyList<WorkerProcess> workers)
    {
        while (!_stop.IsCancellationRequested)
        {
            var lost = Volatile.Read(ref _lostNode);
            var at = _clock.Elapsed;
            var answers = await Task.WhenAll(workers.Select(async w => (w.Id, Ready: await w.IsReadyAsync())));
            var samples = answers.Select(a => new Sample(a.Id, at, lost, a.Ready, RabbitCluster.NodesConnectedFrom(a.Id))).ToList();
            lock (_samples)
            {
                _samples.AddRange(samples);
            }

            try
            {
                await Task.Delay(Interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _polling.WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }
}
