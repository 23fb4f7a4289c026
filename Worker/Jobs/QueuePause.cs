namespace JobWorker.Jobs;

/// <summary>An operator's pause of a queue: since when, by whom, why.</summary>
internal sealed record QueuePause(DateTime PausedAt, string? PausedBy, string? Reason)
{
    /// <summary>"paused by operator since … by … (reason)", for status, readiness and the dashboard.</summary>
    public string Describe() =>
        $"paused by operator since {PausedAt:yyyy-MM-dd HH:mm:ss} UTC" +
        (string.IsNullOrWhiteSpace(PausedBy) ? "" : $" by {PausedBy}") +
        (string.IsNullOrWhiteSpace(Reason) ? "" : $" ({Reason})");
}
