using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobWorker.Messaging;

/// <summary>
/// When RabbitMQ did not answer the start's priority probe (<see cref="JobQueuePriority"/>), checks the jobs queues once it
/// answers, and stops the worker with a non-zero exit code when one of them exists without <c>x-max-priority</c>.
/// </summary>
/// <remarks>
/// MassTransit was then told to declare them with the argument, which RabbitMQ refuses for ever for a queue declared
/// before priorities existed: no job would be consumed until someone restarted the worker. A queue's arguments cannot be
/// changed, and MassTransit's endpoint cannot be configured again in a running bus, so the orchestrator's restart is the
/// fix: the next start's probe sees the queue and uses it as it is.
/// </remarks>
internal sealed partial class JobQueuePriorityRecheck(JobQueuePriority priority, IHostApplicationLifetime lifetime, ILogger<JobQueuePriorityRecheck> logger)
    : BackgroundService
{
    /// <summary>How often to look whether the probe has run, and to ask RabbitMQ again while it does not answer.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!priority.Probed)
                {
                    continue;
                }

                if (!priority.Unchecked)
                {
                    return;
                }

                IReadOnlyList<string> disagreeing;
                try
                {
                    disagreeing = await priority.FindDisagreementsAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogStillUnchecked(logger, e.Message, Interval);
                    continue;
                }

                if (disagreeing.Count == 0)
                {
                    LogChecked(logger);
                    return;
                }

                LogDisagreement(logger, JobQueuePriority.DisagreementMessage(disagreeing));
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Problem}")]
    private static partial void LogDisagreement(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Checked the jobs queues now that RabbitMQ answers: each is, or will be, a priority queue as declared")]
    private static partial void LogChecked(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Still could not check the jobs queues' x-max-priority ({Reason}); asking again in {Interval}")]
    private static partial void LogStillUnchecked(ILogger logger, string reason, TimeSpan interval);
}
