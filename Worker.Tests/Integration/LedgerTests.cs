using System.Data.Common;
using System.Diagnostics;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Resilience;
using JobWorker.Telemetry;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>A complete worker, in process on the real services: what the ledger design promises beyond the happy path.</summary>
public sealed class LedgerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Test]
    public async Task A_retry_waiting_out_its_backoff_holds_no_slot_and_the_replica_runs_a_full_set_of_other_jobs_meanwhile()
    {
        var gate = new HandlerGate();
        await using var worker = await TestWorker.StartAsync(
            new()
            {
                ["Jobs:ConcurrentJobs"] = "4",
                ["Retries:BaseDelay"] = "00:00:30",
                ["Retries:MaxDelay"] = "00:00:30",
            },
            worker => worker.AddJobHandler<GateJobHandler>(GateJobHandler.JobType).Services.AddSingleton(gate));
        await using var client = await TestClient.StartAsync(worker.Queue);
        var failing = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 1 }, maxAttempts: 2);
        await client.SendAsync(worker.Queue, [failing]);
        var waiting = await Eventually.WaitForAsync(() => TestJobs.Store.FindAsync(failing.JobId, CancellationToken.None),
            j => j is { State: JobState.Pending, Attempt: 1 }, Timeout, "the first attempt to fail and the job to wait for its retry");

        var others = Enumerable.Range(0, 4).Select(_ => TestJobs.Submit(GateJobHandler.JobType, new { ms = 2_000 })).ToList();
        await client.SendAsync(worker.Queue, others);
        await Eventually.WaitForAsync(() => Task.FromResult(gate.Inside), inside => inside == 4, Timeout, "all four other jobs to run at once");
        var slots = worker.Services.GetRequiredService<JobSlots>();
        var busy = slots.Busy;
        var during = await TestJobs.Store.FindAsync(failing.JobId, CancellationToken.None);

        await TestJobs.WaitUntilFinishedAsync(others, Timeout);
        Assert.That(waiting!.RunAt - waiting.UpdatedAt, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(15)), "equal jitter: at least half the backoff");
        Assert.That(busy, Is.EqualTo(4), "every slot ran another job");
        Assert.That(during!.State, Is.EqualTo(JobState.Pending), "the retry was still waiting");
        Assert.That(await Eventually.WaitForAsync(() => Task.FromResult(slots.Busy), b => b == 0, Timeout, "the slots to empty"), Is.Zero);
    }

    [Test]
    public async Task A_claim_whose_reply_is_lost_after_it_committed_is_recognised_on_retry_and_the_job_runs_once()
    {
        using var lostReply = new LoseReplyAfterCommit("accept-claim");
        await using var worker = await TestWorker.StartAsync(
            new() { ["Resilience:TransitionRetryBaseDelay"] = "00:00:00.010" },
            worker => worker.Services.AddSingleton<IInterceptor>(lostReply));
        await using var client = await TestClient.StartAsync(worker.Queue);
        var job = TestJobs.Submit(RecordingJobHandler.JobType);
        lostReply.Target = job.JobId;

        await client.SendAsync(worker.Queue, [job]);

        var done = await TestJobs.WaitForStateAsync(job.JobId, JobState.Succeeded, Timeout);
        Assert.That(lostReply.Fired, Is.EqualTo(1), "the fault must have hit the claim");
        Assert.That(done.Attempt, Is.EqualTo(1), "the retried claim found its own write, not a second attempt");
        Assert.That(worker.Runs.For(job.JobId), Is.EqualTo(1));
        await Eventually.WaitForAsync(() => Task.FromResult(client.Events.Succeeded(job.JobId)), n => n == 1, Timeout, "its JobSucceeded");
        Assert.That(client.Events.Started(job.JobId), Is.EqualTo(1));
    }

    [Test]
    public async Task With_a_non_default_virtual_host_unreadable_messages_are_recorded_and_consumption_follows_the_circuit()
    {
        var vhost = $"jw-test-{Guid.NewGuid():N}"[..16];
        using var rabbit = new RabbitManagement();
        await rabbit.CreateVirtualHostAsync(vhost);
        try
        {
            await using var worker = await TestWorker.StartAsync(new() { ["RabbitMq:VirtualHost"] = vhost });
            var consumption = worker.Services.GetRequiredService<ConsumptionControl>();
            var circuit = worker.Services.GetRequiredService<DatabaseCircuit>();
            var jobId = Guid.NewGuid();

            await rabbit.PublishAsync(worker.Queue, $$$"""{"jobId": "{{{jobId}}}", "jobType": "noop", "payload": {""", vhost: vhost);

            var job = await TestJobs.WaitForStateAsync(jobId, JobState.Failed, Timeout);
            Assert.That(job.Error, Does.StartWith("Unreadable SubmitJob"));
            Assert.That(consumption.IsConsuming, Is.True, "the job and status endpoints were found on the virtual host");
            circuit.Open("test outage");
            await Eventually.WaitForAsync(() => Task.FromResult(consumption.IsConsuming), c => !c, Timeout, "consumption to pause");
            circuit.Close();
            await Eventually.WaitForAsync(() => Task.FromResult(consumption.IsConsuming), c => c, Timeout, "consumption to resume");
        }
        finally
        {
            await rabbit.DeleteVirtualHostAsync(vhost);
        }
    }

    /// <summary>
    /// Lets one transition of the target job commit, then fails it as a dropped connection would: the reply is lost.
    /// The transition is told by its span (the hot transitions run their SQL outside EF's command pipeline).
    /// </summary>
    private sealed class LoseReplyAfterCommit : DbConnectionInterceptor, IDisposable
    {
        private readonly string _transition;
        private readonly ActivityListener _spans = new()
        {
            ShouldListenTo = source => source.Name == JobWorkerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };

        private int _fired;

        public LoseReplyAfterCommit(string transition)
        {
            _transition = transition;
            ActivitySource.AddActivityListener(_spans);
        }

        public Guid Target { get; set; }

        public int Fired => Volatile.Read(ref _fired);

        public override ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
        {
            // Closing comes after the statement ran to its end and committed.
            if (Activity.Current is { } span && span.GetTagItem("jobworker.transition") as string == _transition
                && span.GetTagItem("jobworker.job.id") is Guid id && id == Target
                && Interlocked.CompareExchange(ref _fired, 1, 0) == 0)
            {
                throw new NpgsqlException("simulated: the connection dropped after the claim committed", new IOException("connection reset by peer"));
            }

            return ValueTask.FromResult(result);
        }

        public void Dispose() => _spans.Dispose();
    }
}
