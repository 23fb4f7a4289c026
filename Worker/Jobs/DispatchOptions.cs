using System.ComponentModel.DataAnnotations;

namespace JobWorker.Jobs;

/// <summary>The maintenance duties every replica runs (rescuer, dispatcher, event sweep). Section <c>Dispatch</c>.</summary>
internal sealed class DispatchOptions
{
    public const string Section = "Dispatch";

    /// <summary>How often each replica sends due jobs, takes back lapsed leases and re-publishes unconfirmed events.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Dispatch:Interval must be between 50 ms and 1 min.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Rows one statement of a tick takes at most; a full batch is followed by another at once.</summary>
    [Range(1, 10_000, ErrorMessage = "Dispatch:BatchSize must be between 1 and 10000.")]
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// A due Pending job whose SubmitJob was sent this long ago and still not claimed is sent again (the message may have
    /// been lost with a broker). Set it above the longest time a message waits in the queue behind others.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Dispatch:RedispatchAfter must be between 1 s and 1 day.")]
    public TimeSpan RedispatchAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// An event its writer has not seen confirmed by the broker this long after it was recorded is published again,
    /// by whichever replica's relay takes it first.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Dispatch:EventRetryAfter must be between 1 s and 1 h.")]
    public TimeSpan EventRetryAfter { get; set; } = TimeSpan.FromSeconds(15);
}
