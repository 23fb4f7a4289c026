using System.Diagnostics;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>
/// Two replicas on a three-node RabbitMQ cluster with quorum queues lose the node that leads their job queue in the middle
/// of a run, then get it back: the cluster keeps serving, and the ledger's promise holds as it does on one node.
/// </summary>
[Category("Slow")]
public sealed class BrokerClusterTests
{
    /// <summary>How a node is lost.</summary>
    public enum NodeLoss
    {
        /// <summary><c>rabbitmqctl stop</c>: the node closes its connections and hands its queues' leadership on.</summary>
        Stopped,

        /// <summary>SIGKILL: the node vanishes; its peers learn it from the dropped distribution link.</summary>
        Killed,
    }

    /// <summary>Longer than a replica may say it is ready with no connection to a serving node: one probe interval and the
    /// time MassTransit takes to notice a closed connection, with slack for a loaded 2-core machine.</summary>
    private static readonly TimeSpan ReadinessLag = TimeSpan.FromSeconds(3);

    [OneTimeSetUp]
    public Task FindCluster() => RabbitCluster.RequireAllNodesAsync();

    [TestCase(NodeLoss.Stopped)]
    [TestCase(NodeLoss.Killed)]
    [Description("3,000 jobs on two replicas with RabbitMq:Hosts listing three nodes and RabbitMq:QueueType=quorum. Once 300 have " +
                 "succeeded, the node leading the job queue is stopped (or killed) and kept down until both replicas serve again " +
                 "from the surviving nodes and jobs keep succeeding, then started again. Every job succeeds once, every JobSucceeded " +
                 "arrives, nothing is dead-lettered, no slot stays in flight. Readiness tells the truth: once the node's process is " +
                 "gone, a replica never says it is ready for longer than the probe lag while the kernel shows it holding no AMQP " +
                 "connection to a serving node; and every replica is ready again, connected to a surviving node, before the lost " +
                 "node comes back (a replica that reconnects within the lag may never be seen not ready).")]
    public async Task Losing_the_job_queues_leader_under_load_keeps_the_whole_promise(NodeLoss loss)
    {
        var settings = RabbitCluster.Settings("quorum");
        // No replica dies, so no job may run twice: a lease long enough to be renewed while a node is lost on a busy machine.
        settings["Jobs:LeaseDuration"] = "00:00:15";
        await using var scenario = await FaultScenario.StartAsync(workers: 2, settings);
        using (var rabbit = new RabbitManagement())
        {
            Assert.That(await rabbit.QueueTypeAsync(scenario.Queue), Is.EqualTo("quorum"), "the job queue is declared as a quorum queue");
        }

        var jobs = Enumerable.Range(0, 3_000).Select(i => TestJobs.Submit("delay", new { ms = 500 + i % 5 * 100 })).ToList();
        await scenario.SubmitAsync(jobs);
        await scenario.WaitForProgressAsync(jobs, 300);

        var leader = await RabbitCluster.LeaderOfAsync(scenario.Queue);
        var survivor = RabbitCluster.Nodes.First(n => n != leader);
        var onLostNode = scenario.Workers.Where(w => RabbitCluster.NodesConnectedFrom(w.Id).Contains(leader)).Select(w => w.Id).ToList();
        var outage = Stopwatch.StartNew();
        await using var readiness = ReadinessProbe.Start(scenario.Workers);
        int succeededAtLoss, succeededBeforeReturn;
        try
        {
            readiness.NodeLost(leader);
            succeededAtLoss = (await TestJobs.CountAsync(jobs)).GetValueOrDefault(JobState.Succeeded);
            var stopping = Stopwatch.StartNew();
            await (loss == NodeLoss.Stopped ? LocalServices.StopNodeAsync(leader) : LocalServices.KillNodeAsync(leader));
            readiness.NodeGone();
            TestContext.Out.WriteLine($"{loss} node {leader} in {stopping.Elapsed.TotalSeconds:F1} s");

            // Two of three nodes are a majority: the queue elects a new leader and both replicas serve again while the node is down.
            await Eventually.WaitForAsync(
                () => Task.FromResult(scenario.Workers.Count(w => readiness.WhileGone.Any(s => s.Worker == w.Id && s.Ready && s.ConnectedToLiveNode))),
                serving => serving == scenario.Workers.Count, TimeSpan.FromSeconds(60), "both replicas ready on a surviving node");
            await Eventually.WaitForAsync(() => TestJobs.CountAsync(jobs),
                c => c.GetValueOrDefault(JobState.Succeeded) >= Math.Min(jobs.Count, succeededAtLoss + 200), TimeSpan.FromSeconds(60),
                "jobs to keep succeeding while the node is down");
            succeededBeforeReturn = (await TestJobs.CountAsync(jobs)).GetValueOrDefault(JobState.Succeeded);
            Assert.That(await RabbitCluster.LeaderOfAsync(scenario.Queue, askNode: survivor), Is.Not.EqualTo(leader), "a new leader was elected");
        }
        finally
        {
            await LocalServices.StartNodeAsync(leader);
            readiness.NodeLost(0);
        }

        TestContext.Out.WriteLine($"{loss} node {leader} ({RabbitCluster.NodeName(leader)}) for {outage.Elapsed.TotalSeconds:F1} s; " +
                                  $"replicas on it: {onLostNode.Count}; succeeded at the loss {succeededAtLoss}, before its return {succeededBeforeReturn}");
        foreach (var worker in scenario.Workers)
        {
            var mine = readiness.DuringOutage.Where(s => s.Worker == worker.Id).ToList();
            TestContext.Out.WriteLine($"replica {worker.Id}: {mine.Count} samples during the outage, {mine.Count(s => s.Ready)} ready; " +
                                      $"{mine.Count(s => s.Confirmed)} with the node gone, {mine.Count(s => s.Confirmed && !s.ConnectedToLiveNode)} of them " +
                                      $"with no connection to a serving node, {mine.Count(s => s.Confirmed && !s.ConnectedToLiveNode && s.Ready)} of those ready");
            Assert.That(readiness.LongestReadyWhileDisconnected(worker.Id), Is.LessThanOrEqualTo(ReadinessLag),
                $"replica {worker.Id} said it was ready while it held no connection to a serving node");
        }

        await scenario.AssertWholePromiseAsync(jobs, TimeSpan.FromSeconds(180));
    }
}
