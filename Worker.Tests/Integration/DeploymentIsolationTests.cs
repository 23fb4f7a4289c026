using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>
/// Two deployments (each its own <c>Jobs:QueueName</c> and database) on one RabbitMQ virtual host: what one publishes
/// or consumes never reaches the other.
/// </summary>
public sealed class DeploymentIsolationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Test]
    public async Task A_cancel_a_status_request_a_published_submission_and_an_event_of_one_deployment_never_reach_another()
    {
        var otherDatabase = $"{TestEnvironment.DatabaseName}_other";
        await TestEnvironment.RecreateDatabaseAsync(otherDatabase);
        try
        {
            await RunTwoDeploymentsAsync(new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString()) { Database = otherDatabase }.ConnectionString);
        }
        finally
        {
            await TestEnvironment.DropDatabaseAsync(otherDatabase);
        }
    }

    [Test]
    public async Task A_worker_upgraded_from_broker_wide_exchanges_removes_their_bindings_to_its_queues_and_keeps_what_they_hold()
    {
        var queue = TestWorker.UniqueQueue();
        using var rabbit = new RabbitManagement();

        // What an earlier version left on queue: its exchanges bound to the broker-wide ones, and a job waiting in it.
        (string Source, string Destination)[] legacy =
        [
            ("JobWorker.Contracts:SubmitJob", queue),
            ("JobWorker.Contracts:GetJobStatus", $"{queue}-status"),
            ("JobWorker.Contracts:CancelJob", $"{queue}-cancel"),
        ];
        foreach (var (source, destination) in legacy)
        {
            await rabbit.BindExchangesAsync(source, destination);
        }

        Assert.That(await rabbit.DestinationsAsync("JobWorker.Contracts:CancelJob"), Does.Contain($"{queue}-cancel"), "arranged");
        await rabbit.DeclareQueueAsync(queue);
        var waiting = Guid.NewGuid();
        Assert.That(await rabbit.PublishAsync(queue, $$"""{"jobId": "{{waiting}}", "jobType": "noop"}"""), Is.True, "queued before the upgrade");

        await using var worker = await TestWorker.StartAsync(new() { ["Jobs:QueueName"] = queue });

        await TestJobs.WaitForStateAsync(waiting, JobState.Succeeded, Timeout);
        foreach (var (source, destination) in legacy)
        {
            await Eventually.WaitForAsync(() => rabbit.DestinationsAsync(source), d => !d.Contains(destination), Timeout,
                $"{source} to be no longer bound to {destination}");
        }

        Assert.That(await rabbit.DestinationsAsync($"{queue}:JobWorker.Contracts:CancelJob"), Is.EqualTo(new[] { $"{queue}-cancel" }));
        Assert.That(await rabbit.DestinationsAsync($"{queue}-cancel"),
            Does.Contain($"{queue}-cancel").And.Some.StartsWith($"{queue}-cancel-"), "the durable cancel queue and this replica's notice queue");
    }

    private static async Task RunTwoDeploymentsAsync(string otherConnectionString)
    {
        var firstSeen = new ConsumedMessages();
        var secondSeen = new ConsumedMessages();
        // A lease renewal (every LeaseDuration / 3) would stop a cancelled job too: this long, only the CancelJob delivered
        // by the broker can, within the test's timeout.
        await using var first = await TestWorker.StartAsync(
            new() { ["Jobs:LeaseDuration"] = "00:05:00" }, w => w.Services.AddConsumeObserver(_ => firstSeen));
        await using var second = await TestWorker.StartAsync(
            new() { ["Database:ConnectionString"] = otherConnectionString, ["Database:MigrateOnStart"] = "true" },
            w => w.Services.AddConsumeObserver(_ => secondSeen));
        await using var firstClient = await TestClient.StartAsync(first.Queue);
        await using var secondClient = await TestClient.StartAsync(second.Queue);
        var secondStore = new JobStore(
            TestEnvironment.CreateContextFactory(otherConnectionString), TransitionResilience.None, Options.Create(new DispatchOptions()));

        // A published submission (not sent to the queue): run by its own deployment alone.
        var published = TestJobs.Submit(RecordingJobHandler.JobType);
        await firstClient.PublishAsync(published);
        await TestJobs.WaitForStateAsync(published.JobId, JobState.Succeeded, Timeout);

        // A cancel as `jobworker jobs cancel` and the dashboard make it: recorded, then published for the running job.
        var running = TestJobs.Submit(RecordingJobHandler.JobType, new { ms = 30_000 });
        await firstClient.SendAsync(first.Queue, [running]);
        await TestJobs.WaitForStateAsync(running.JobId, JobState.Running, Timeout);
        var cancel = await first.Services.GetRequiredService<JobControl>()
            .CancelAsync(running.JobId, "operator request", CancellationToken.None);
        Assert.That(cancel.Applied, Is.True, cancel.Message);
        await TestJobs.WaitForStateAsync(running.JobId, JobState.Cancelled, Timeout);

        // A status request as a MassTransit service makes it by default (published, answered by whoever consumes it).
        var status = await firstClient.RequestStatusAsync(published.JobId);

        // The other deployment's own traffic, which the first must not see either.
        var theirs = TestJobs.Submit(RecordingJobHandler.JobType);
        await secondClient.PublishAsync(theirs);
        await Eventually.WaitForAsync(() => secondStore.FindAsync(theirs.JobId, CancellationToken.None), j => j?.State == JobState.Succeeded,
            Timeout, "the second deployment's own job to succeed");

        await Eventually.WaitForAsync(() => Task.FromResult(firstClient.Events.Succeeded(published.JobId)), n => n >= 1, Timeout,
            "the first deployment's JobSucceeded at its subscriber");
        await Eventually.WaitForAsync(() => Task.FromResult(firstClient.Events.Cancelled(running.JobId)), n => n >= 1, Timeout,
            "the first deployment's JobCancelled at its subscriber");
        await Eventually.WaitForAsync(() => Task.FromResult(secondClient.Events.Succeeded(theirs.JobId)), n => n >= 1, Timeout,
            "the second deployment's JobSucceeded at its subscriber");

        // Whatever was to leak has had its chance: the same broker delivered everything above meanwhile.
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Multiple(async () =>
        {
            Assert.That(status, Has.Property("Found").True.And.Property("State").EqualTo("Succeeded"), "the answer comes from the job's own deployment");
            Assert.That(firstSeen.For(published.JobId), Does.Contain("SubmitJob").And.Contain("GetJobStatus"));
            Assert.That(firstSeen.For(running.JobId), Does.Contain("CancelJob"));

            Assert.That(secondSeen.For(published.JobId), Is.Empty, "the second deployment consumed the first's published SubmitJob or GetJobStatus");
            Assert.That(secondSeen.For(running.JobId), Is.Empty, "the second deployment consumed the first's CancelJob");
            Assert.That(await secondStore.FindAsync(published.JobId, CancellationToken.None), Is.Null, "a row in the second deployment's database");
            Assert.That(await secondStore.FindAsync(running.JobId, CancellationToken.None), Is.Null, "a Cancelled tombstone in the second deployment's database");
            Assert.That(secondClient.Events.Any(published.JobId) || secondClient.Events.Any(running.JobId), Is.False,
                "the second deployment's subscriber received the first's events");

            Assert.That(firstClient.Events.Queues, Is.EqualTo(new[] { first.Queue }), "the events a subscriber of the first deployment got, by their Queue");
            Assert.That(secondClient.Events.Queues, Is.EqualTo(new[] { second.Queue }), "the events a subscriber of the second deployment got, by their Queue");

            Assert.That(firstSeen.For(theirs.JobId), Is.Empty, "the first deployment consumed the second's published SubmitJob");
            Assert.That(await TestJobs.Store.FindAsync(theirs.JobId, CancellationToken.None), Is.Null, "a row in the first deployment's database");
            Assert.That(firstClient.Events.Any(theirs.JobId), Is.False, "the first deployment's subscriber received the second's events");
        });
    }
}
