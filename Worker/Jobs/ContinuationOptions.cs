using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>How <see cref="ContinuationReleaser"/> releases continuations (jobs submitted with <c>After</c>). Section <c>Continuations</c>.</summary>
internal sealed class ContinuationOptions
{
    public const string Section = "Continuations";

    /// <summary>
    /// How often each replica looks for held continuations whose parents finished: the most a child waits after its last
    /// parent ends, beyond the dispatcher's own tick. A look starts from the jobs that finished lately
    /// (<see cref="RecentWindow"/>), so it costs what finished, not how many children are held; with no Awaiting job it
    /// reads nothing more than a partial index of them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Continuations:Interval must be between 100 ms and 1 min.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often each replica also reads every held continuation of its queue (and on start): the safety net for parents
    /// that finished while no releaser looked (every replica down, a tick that failed for longer than the recent window).
    /// Its cost grows with the held children, once per sweep.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00", ErrorMessage = "Continuations:SweepInterval must be between 10 s and 1 h.")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Continuations one statement decides at most; a tick takes up to 10 such batches.</summary>
    [Range(1, 1000, ErrorMessage = "Continuations:BatchSize must be between 1 and 1000.")]
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// How far back a tick looks for finished parents: ten ticks and at least 30 s, so a parent is seen even when its
    /// transaction committed late or a few ticks failed; beyond that, the sweep finds it.
    /// </summary>
    public TimeSpan RecentWindow => TimeSpan.FromTicks(Math.Max(Interval.Ticks * 10, TimeSpan.FromSeconds(30).Ticks));
}
