using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>How <see cref="ContinuationReleaser"/> releases continuations (jobs submitted with <c>After</c>). Section <c>Continuations</c>.</summary>
internal sealed class ContinuationOptions
{
    public const string Section = "Continuations";

    /// <summary>
    /// How often each replica looks for held continuations whose parents finished: the most a child waits after its last
    /// parent ends, beyond the dispatcher's own tick. With no Awaiting job a look reads nothing (a partial index of them).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Continuations:Interval must be between 100 ms and 1 min.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Continuations one statement decides at most; a tick takes up to 10 such batches.</summary>
    [Range(1, 1000, ErrorMessage = "Continuations:BatchSize must be between 1 and 1000.")]
    public int BatchSize { get; set; } = 100;
}
