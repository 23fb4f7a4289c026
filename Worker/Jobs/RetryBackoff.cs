namespace JobWorker.Jobs;

/// <summary>Delay before the next attempt: exponential from the base delay, capped, with "equal jitter" (half fixed, half random).</summary>
internal static class RetryBackoff
{
    public static TimeSpan After(int failedAttempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        var exponent = Math.Min(failedAttempt - 1, 30);
        var ceiling = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, exponent), maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }
}
