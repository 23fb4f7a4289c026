using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Hands the relay the recorded events of this queue's jobs that nobody confirmed in time (their writer died, or the broker
/// was away), so every event is published at least once. Its own duty: a failing sweep never stops dispatch or rescue.
/// </summary>
internal sealed class JobEventSweeper(JobEventRelay relay, IOptions<DispatchOptions> options, ILogger<JobEventSweeper> logger)
    : MaintenanceService(logger)
{
    public override string Name => "event-sweep";

    public override TimeSpan Interval => options.Value.Interval;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => relay.SweepAsync(cancellationToken);
}
