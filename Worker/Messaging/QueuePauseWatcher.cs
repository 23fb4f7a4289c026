using JobWorker.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// Reads the operator's pause of this replica's queue every tick and hands it to <see cref="ConsumptionControl"/>, which
/// stops (or starts again) the job endpoint: so every replica learns of a pause or resume within a tick, with no leader,
/// no LISTEN and no session state. Not critical: while it cannot read, the claim statements still refuse to start a job
/// of a paused queue, and the endpoint keeps the state it had.
/// </summary>
internal sealed class QueuePauseWatcher(
    QueueControl queues, ConsumptionControl consumption, IOptions<DispatchOptions> dispatch, IOptions<JobOptions> jobs, ILogger<QueuePauseWatcher> logger)
    : MaintenanceService(logger)
{
    public override string Name => "queue-pause";

    public override bool Critical => false;

    public override TimeSpan Interval => dispatch.Value.Interval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken) =>
        consumption.OperatorPause = await queues.FindPauseAsync(jobs.Value.QueueName, cancellationToken);
}
