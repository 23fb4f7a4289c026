using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;

namespace JobWorker.Dashboard;

/// <summary>
/// Slows and then stops guessing of the dashboard token: per client address, each wrong token is answered later than
/// the one before, and after <see cref="FailuresPerWindow"/> wrong tokens in <see cref="Window"/> sign-ins from that
/// address are refused without being checked until the window ends. Every wrong token is logged (never its text).
/// </summary>
internal sealed partial class SignInThrottle(ILogger<SignInThrottle> logger) : IDisposable
{
    public const int FailuresPerWindow = 5;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(5);

    // Each wrong token takes one permit; a partition whose window has passed with nothing taken is dropped by the limiter.
    private readonly PartitionedRateLimiter<IPAddress> _failures = PartitionedRateLimiter.Create<IPAddress, IPAddress>(peer =>
        RateLimitPartition.GetFixedWindowLimiter(peer, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = FailuresPerWindow, Window = Window, QueueLimit = 0, AutoReplenishment = true,
        }));

    /// <summary>Null when <paramref name="peer"/> may try a token now; else how long until it may.</summary>
    public TimeSpan? Refusal(IPAddress peer)
    {
        using var lease = _failures.AttemptAcquire(peer, 0);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : Window;
    }

    /// <summary>Records a wrong token from <paramref name="peer"/>, logs it, and waits the longer the more there were.</summary>
    public async Task FailedAsync(IPAddress peer, CancellationToken cancellationToken)
    {
        using var lease = _failures.AttemptAcquire(peer);
        var failures = FailuresPerWindow - (int)(_failures.GetStatistics(peer)?.CurrentAvailablePermits ?? 0);
        LogWrongToken(logger, peer, failures, Window.TotalSeconds, FailuresPerWindow);
        var delay = TimeSpan.FromTicks(Math.Min(LongestDelay.Ticks, FirstDelay.Ticks << Math.Clamp(failures - 1, 0, 16)));
        await Task.Delay(delay, cancellationToken);
    }

    public void Dispose() => _failures.Dispose();

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Dashboard sign-in with a wrong token from {Peer}: {Failures} in the last {WindowSeconds} s; after {Limit} its sign-ins are refused until the window ends")]
    private static partial void LogWrongToken(ILogger logger, IPAddress peer, int failures, double windowSeconds, int limit);
}
