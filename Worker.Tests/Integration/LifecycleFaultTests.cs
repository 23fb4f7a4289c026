using System.Net;
using System.Text.Json;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace JobWorker.Tests.Integration;

/// <summary>
/// The job lifecycle under the faults a review and an operator found, on a real worker (PostgreSQL and RabbitMQ): one bad
/// job never holds up the others, a dispatched job is never checked again as a submission, a claim whose reply was lost is
/// resolved, and each maintenance duty fails alone.
/// </summary>
public sealed class LifecycleFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static async Task<(TestWorker Worker, StatementFaults Faults)> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var faults = new StatementFaults();
        var worker = await TestWorker.StartAsync(settings, w => w.Services.AddSingleton<IInterceptor>(faults));
        return (worker, faults);
    }

    [Test, Description("Operator finding: a job whose payload PostgreSQL stores but cannot render stopped every due job on every replica.")]
    public async Task A_job_whose_row_cannot_be_read_ends_failed_and_the_jobs_due_beside_it_run()
    {
        await using var worker = await TestWorker.StartAsync();
        var bad = await JobFactory.InsertAsync(queue: worker.Queue, dueIn: TimeSpan.FromMinutes(10));
        try
        {
            // Rendered as text, 180 million control characters are over a gigabyte of escapes: 54000, "out of memory".
            await TestJobs.ExecuteAsync($"UPDATE jobs SET payload = jsonb_build_array(repeat(chr(1), 180000000)), run_at = now() WHERE id = '{bad.Id}'");
            var ordinary = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => JobFactory.InsertAsync(queue: worker.Queue)));

            var setAside = await TestJobs.WaitForLocationAsync(bad.Id, JobState.Failed, TimeSpan.FromSeconds(90));
            var done = await Task.WhenAll(ordinary.Select(j => TestJobs.WaitForLocationAsync(j.Id, JobState.Succeeded, Timeout)));

            var error = await ErrorOfAsync(bad.Id);
            Assert.That(done, Has.Length.EqualTo(5));
            Assert.That(setAside.Attempt, Is.Zero, "it never ran");
            Assert.That(error, Does.Contain("could not be claimed").And.Contain("54000"));
            Assert.That(worker.Services.GetRequiredService<JobDispatcher>().Failures, Is.Zero, "the dispatcher never read the payload");
        }
        finally
        {
            await TestJobs.ExecuteAsync($"DELETE FROM jobs WHERE id = '{bad.Id}'");
        }
    }

    [Test, Description("Operator finding: a retry's SubmitJob was re-serialised indented and checked again against the payload limit, failing the job.")]
    public async Task A_retried_job_runs_again_whatever_its_payload_and_is_never_checked_as_a_new_submission()
    {
        await using var worker = await TestWorker.StartAsync(new() { ["Submissions:MaxPayloadBytes"] = "600000" });
        await using var client = await TestClient.StartAsync(worker.Queue);

        // 80,000 zeros: 160 KB as sent, over 600 KB once indented.
        var job = TestJobs.Submit(RecordingJobHandler.JobType, new { failures = 1, pad = new int[80_000] }, maxAttempts: 2);
        await client.SendAsync(worker.Queue, [job]);

        var succeeded = await TestJobs.WaitForStateAsync(job.JobId, JobState.Succeeded, Timeout);
        Assert.That(succeeded.Attempt, Is.EqualTo(2));
        Assert.That(worker.Runs.For(job.JobId), Is.EqualTo(2));
        Assert.That(await TestJobs.HistoryAsync(job.JobId), Is.EqualTo(new[] { "Retrying@1", "Started@1", "Started@2", "Succeeded@2" }));
        Assert.That(JsonDocument.Parse(succeeded.Payload).RootElement.GetProperty("pad").GetArrayLength(), Is.EqualTo(80_000), "the ledger's payload ran");
    }

    [Test, Description("Operator finding: a replica whose handler for a type is switched off failed the re-sent jobs of that type.")]
    public async Task A_dispatched_job_of_a_type_this_replica_does_not_handle_stays_pending_for_one_that_does()
    {
        await using var worker = await TestWorker.StartAsync(new() { ["Handlers:Delay:Enabled"] = "false" });
        var job = await JobFactory.InsertAsync(queue: worker.Queue, type: "delay", payload: """{"ms": 1}""");

        await Eventually.WaitForAsync(() => TestJobs.FindAsync(job.Id), j => j!.DispatchedAt is not null, Timeout, "the dispatcher to send it");
        await Task.Delay(TimeSpan.FromSeconds(1));

        var row = (await TestJobs.FindAsync(job.Id))!;
        Assert.That((row.State, row.Attempt, row.Error), Is.EqualTo((JobState.Pending, 0, (string?)null)));
        Assert.That(await TestJobs.HistoryAsync(job.Id), Is.Empty);
    }

    [Test, Description("Review finding: a claim that committed, but whose delivery was then cancelled, was left Running under a live worker that did not renew it.")]
    public async Task A_claim_whose_reply_was_lost_and_whose_delivery_was_cancelled_is_released_without_using_the_attempt()
    {
        // The released job is due at once: with the dispatcher ticking it was sent and run as attempt 2 before the row
        // was read (seen 1 run in 3). The dispatcher ticks once at start, then not within the test.
        var (worker, faults) = await StartAsync(new() { ["Dispatch:Interval"] = "00:01:00" });
        await using var _ = worker;
        using var delivery = new CancellationTokenSource();
        var lost = 0;
        faults.FailAfter("accept-claim", () =>
        {
            if (Interlocked.Increment(ref lost) != 1)
            {
                return null;
            }

            delivery.Cancel();
            return new NpgsqlException("Exception while reading from stream", new IOException("connection reset"));
        });
        var job = new NewJob(Guid.NewGuid(), RecordingJobHandler.JobType, "{}", 3, null, null, Queue: worker.Queue);

        var take = worker.Services.GetRequiredService<JobProcessor>().TakeAsync(job, default, null, delivery.Token);

        Assert.That(async () => await take, Throws.InstanceOf<Exception>(), "the delivery goes back to the queue");
        var row = (await TestJobs.FindAsync(job.Id))!;
        Assert.That((row.State, row.Attempt, row.MaxAttempts, row.Owner), Is.EqualTo((JobState.Pending, 1, 4, (string?)null)),
            "released, its attempt given back, for the redelivered message to claim");
        Assert.That(await TestJobs.HistoryAsync(job.Id), Is.EqualTo(new[] { "Released@1", "Started@1" }));
        Assert.That(worker.Runs.For(job.Id), Is.Zero);
    }

    [Test]
    public async Task A_claim_whose_reply_was_lost_runs_once_when_its_delivery_is_still_live()
    {
        var (worker, faults) = await StartAsync();
        await using var _ = worker;
        var lost = 0;
        faults.FailAfter("accept-claim", () => Interlocked.Increment(ref lost) == 1 ? new InvalidOperationException("reply lost") : null);
        var job = new NewJob(Guid.NewGuid(), RecordingJobHandler.JobType, "{}", 3, null, null, Queue: worker.Queue);

        var intake = await worker.Services.GetRequiredService<JobProcessor>().TakeAsync(job, JsonDocument.Parse("{}").RootElement, null, CancellationToken.None);

        var row = await TestJobs.WaitForStateAsync(job.Id, JobState.Succeeded, Timeout);
        Assert.That(intake.Kind, Is.EqualTo(JobIntakeKind.Started));
        Assert.That((row.Attempt, row.MaxAttempts), Is.EqualTo((1, 3)));
        Assert.That(worker.Runs.For(job.Id), Is.EqualTo(1));
    }

    [TestCase("lapsed", "rescuer")]
    [TestCase("take-due", "dispatcher")]
    [TestCase("take-events", "event-sweep")]
    [Description("Review finding: one tick recovered, dispatched and swept, so one failing step stopped the others.")]
    public async Task A_failing_maintenance_duty_is_named_by_readiness_and_the_others_go_on(string statement, string duty)
    {
        var (worker, faults) = await StartAsync();
        await using var _ = worker;
        faults.FailBefore(statement, () => new InvalidOperationException($"{statement} broken on purpose"));
        var lapsed = await JobFactory.InsertAsync(JobState.Running, queue: worker.Queue, leaseLeft: TimeSpan.FromSeconds(-1), owner: "worker-dead");
        var due = await JobFactory.InsertAsync(queue: worker.Queue);
        var finished = await JobFactory.InsertAsync(JobState.Succeeded, queue: worker.Queue, attempt: 1);
        await TestJobs.ExecuteAsync($"""
            INSERT INTO job_events (job_id, kind, attempt, will_retry, occurred_at, relay_after)
            VALUES ('{finished.Id}', 'Succeeded', 1, false, now(), now() - interval '1 minute')
            """);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10), BaseAddress = new Uri(((WebApplication)worker.Host).Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal)) };

        var ready = await Eventually.WaitForAsync(() => http.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.ServiceUnavailable, Timeout, "readiness to fail");
        var report = await ready.Content.ReadAsStringAsync();
        await Eventually.WaitForAsync(async () => (await TestJobs.FindAsync(lapsed.Id))!.State != JobState.Running || duty == "rescuer", done => done, Timeout, "the rescuer");
        await Eventually.WaitForAsync(async () => (await TestJobs.FindAsync(due.Id))!.State == JobState.Succeeded || duty == "dispatcher", done => done, Timeout, "the dispatcher");
        await Eventually.WaitForAsync(async () => await TestJobs.EventsAsync(finished.Id) is [] || duty == "event-sweep", done => done, Timeout, "the event sweep");

        Assert.That(report, Does.Contain($"{duty}: ").And.Contain($"{statement} broken on purpose"));
        Assert.That((await TestJobs.FindAsync(lapsed.Id))!.State == JobState.Running, Is.EqualTo(duty == "rescuer"), "the rescuer ran unless it is the one failing");
        Assert.That((await TestJobs.FindAsync(due.Id))!.State == JobState.Pending, Is.EqualTo(duty == "dispatcher"), "the dispatcher ran unless it is the one failing");
        Assert.That(await TestJobs.EventsAsync(finished.Id), duty == "event-sweep" ? Is.Not.Empty : Is.Empty, "the sweep ran unless it is the one failing");
        foreach (var other in new[] { "rescuer", "dispatcher", "event-sweep" }.Where(d => d != duty))
        {
            Assert.That(report, Does.Not.Contain($"{other}: "), $"{other} is not reported failing");
        }

        faults.Clear();
        await Eventually.WaitForAsync(() => http.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK, Timeout, "readiness to recover");
    }

    private static async Task<string?> ErrorOfAsync(Guid id)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT error FROM jobs WHERE id = $1", connection) { Parameters = { new() { Value = id } } };
        return (string?)await command.ExecuteScalarAsync();
    }
}
