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
    private int _confirmed;

    private ReadinessProbe(IReadOnlyList<WorkerProcess> workers) => _polling = Task.Run(() => PollAsync(workers));

    /// <summary>One observation of one replica.</summary>
    /// <param name="Worker">The replica's process id.</param>
    /// <param name="At">Time since the probe started.</param>
    /// <param name="LostNode">The cluster node being taken away at the time, 0 if none.</param>
    /// <param name="Confirmed">The lost node's process was gone (its stop or kill had returned), not merely going.</param>
    /// <param name="Ready">Whether <c>/health/ready</c> answered 200.</param>
    /// <param name="Connected">The nodes the replica held an established AMQP connection to, read right after the answer.</param>
    public sealed record Sample(int Worker, TimeSpan At, int LostNode, bool Confirmed, bool Ready, IReadOnlySet<int> Connected)
    {
        /// <summary>Connected to a node that serves.</summary>
        public bool ConnectedToLiveNode => Connected.Any(n => n != LostNode);
    }

    public static ReadinessProbe Start(IReadOnlyList<WorkerProcess> workers) => new(workers);

    /// <summary>
    /// From now on, samples are taken with <paramref name="node"/> going away (0: all nodes up again). A stopping node still
    /// serves the connections it has not closed yet, so a connection to it only counts as none once <see cref="NodeGone"/>.
    /// </summary>
    public void NodeLost(int node)
    {
        Volatile.Write(ref _confirmed, 0);
        Volatile.Write(ref _lostNode, node);
    }

    /// <summary>The lost node's process is gone: from now on, no connection to it can be live.</summary>
    public void NodeGone() => Volatile.Write(ref _confirmed, 1);

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

    /// <summary>Samples taken from the moment a node was being taken away until it was back.</summary>
    public IReadOnlyList<Sample> DuringOutage => [.. Samples.Where(s => s.LostNode != 0)];

    /// <summary>Samples taken while the lost node's process was gone.</summary>
    public IReadOnlyList<Sample> WhileGone => [.. Samples.Where(s => s.LostNode != 0 && s.Confirmed)];

    /// <summary>
    /// The longest stretch, per replica, while the lost node was gone, in which it said it was ready while holding no
    /// connection to a node that serves: how long its readiness was a lie.
    /// </summary>
    public TimeSpan LongestReadyWhileDisconnected(int worker)
    {
        var longest = TimeSpan.Zero;
        TimeSpan? since = null;
        foreach (var sample in WhileGone.Where(s => s.Worker == worker))
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
            var confirmed = Volatile.Read(ref _confirmed) == 1;
            var lost = Volatile.Read(ref _lostNode);
            var at = _clock.Elapsed;
            var answers = await Task.WhenAll(workers.Select(async w => (w.Id, Ready: await w.IsReadyAsync())));
            var samples = answers.Select(a => new Sample(a.Id, at, lost, confirmed, a.Ready, RabbitCluster.NodesConnectedFrom(a.Id))).ToList();
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
