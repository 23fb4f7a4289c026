using JobWorker.Dashboard.Pages;
using JobWorker.Jobs;
using JobWorker.Messaging;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace JobWorker.Dashboard;

/// <summary>The overview: whether the queue is paused, counts by state, the last hour's throughput, queue depths, the next scheduled jobs and the replicas.</summary>
internal static class OverviewHandler
{
    /// <summary>Succeeded is counted over this window: the one state that grows without end.</summary>
    public static readonly TimeSpan SucceededWindow = TimeSpan.FromHours(24);
    private static readonly TimeSpan ReplicasSeenWithin = TimeSpan.FromHours(1);
    private static readonly TimeSpan ChartWindow = TimeSpan.FromMinutes(59);

    public static async Task<IResult> HandleAsync(HttpContext context, JobQueries queries, BrokerQueues broker, QueueControl queueControl, IOptions<JobOptions> jobs)
    {
        var ct = context.RequestAborted;
        var pause = await queueControl.FindPauseAsync(jobs.Value.QueueName, ct);
        var counts = await queries.CountByStateAsync(SucceededWindow, ct);
        var minutes = await queries.FinishedPerMinuteAsync(ChartWindow, ct);
        var due = await queries.DueSoonAsync(10, ct);
        var replicas = await queries.ReplicasAsync(ReplicasSeenWithin, ct);
        IReadOnlyList<QueueDepth>? queues = null;
        string? brokerError = null;
        try
        {
            queues = await broker.ReadAsync(ct);
        }
        catch (BrokerUnavailableException e)
        {
            brokerError = e.Message;
        }

        var now = replicas.FirstOrDefault()?.Now ?? DateTime.UtcNow;
        var model = new OverviewModel(counts, minutes, queues, brokerError, due, replicas, now, jobs.Value.QueueName, pause);
        return DashboardResponses.Page<OverviewPage>(context, new() { ["Model"] = model });
    }
}
