using System.Globalization;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>How far a running handler says it got: <see cref="JobRun.ReportProgressAsync"/>'s last report.</summary>
/// <param name="Completed">Work done so far, in the handler's own unit.</param>
/// <param name="Total">The work in all, when known; without it there is no percentage.</param>
/// <param name="Message">What the handler is doing, for people (cut to 500 characters when stored).</param>
public sealed record JobProgress(long Completed, long? Total, string? Message)
{
    /// <summary>Completed as a share of Total, from 0 to 100; null when there is no total.</summary>
    public double? Percent => PercentOf(Completed, Total);

    /// <summary>The job's last recorded report; null when its handler made none.</summary>
    internal static JobProgress? Of(Job job) =>
        job.ProgressUpdatedAt is null ? null : new JobProgress(job.ProgressCompleted ?? 0, job.ProgressTotal, job.ProgressMessage);

    /// <summary>How status lines show it: "42% slept 3 of 8 s", or "3 done" without a total.</summary>
    public string Describe()
    {
        var amount = Percent is { } percent
            ? string.Create(CultureInfo.InvariantCulture, $"{percent:0}%")
            : string.Create(CultureInfo.InvariantCulture, $"{Completed} done");
        return Message is { Length: > 0 } message ? $"{amount} {message}" : amount;
    }

    /// <summary>
    /// <paramref name="completed"/> of <paramref name="total"/> in percent, held to 0–100 (a handler that overshoots its
    /// estimate shows 100); null without a positive total.
    /// </summary>
    public static double? PercentOf(long? completed, long? total) =>
        completed is { } done && total is > 0 and var all ? Math.Clamp(100.0 * done / all, 0, 100) : null;
}
