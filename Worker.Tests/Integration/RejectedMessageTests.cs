using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>Messages that can never run end in the error queue with their reason, and the worker keeps consuming.</summary>
public sealed class RejectedMessageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Test]
    public async Task An_unknown_job_type_is_failed_in_the_store_and_moved_to_the_error_queue_with_the_reason()
    {
        await using var worker = await TestWorker.StartAsync();
        using var rabbit = new RabbitManagement();
        var jobId = Guid.NewGuid();

        await rabbit.PublishAsync(worker.Queue, $$$"""{"jobId": "{{{jobId}}}", "jobType": "teleport", "payload": {}}""");

        var job = await TestJobs.WaitForStateAsync(jobId, JobState.Failed, Timeout);
        var errors = await rabbit.WaitForMessagesAsync($"{worker.Queue}_error", 1, Timeout);
        Assert.That(job.Error, Does.StartWith("Unknown job type 'teleport'"));
        Assert.That(RabbitManagement.Header(errors[0], "MT-Fault-Message"), Does.StartWith("Unknown job type 'teleport'"));
    }

    [Test]
    public async Task Malformed_json_goes_to_the_error_queue_and_the_next_job_still_runs()
    {
        await using var worker = await TestWorker.StartAsync();
        using var rabbit = new RabbitManagement();
        var next = Guid.NewGuid();

        await rabbit.PublishAsync(worker.Queue, """{"jobId": "not-even-closed" """);
        await rabbit.PublishAsync(worker.Queue, $$"""{"jobId": "{{next}}", "jobType": "noop"}""");

        await TestJobs.WaitForStateAsync(next, JobState.Succeeded, Timeout);
        var errors = await rabbit.WaitForMessagesAsync($"{worker.Queue}_error", 1, Timeout);
        Assert.That(errors, Has.Count.EqualTo(1), "only the malformed message may fault");
        Assert.That(errors[0].GetProperty("payload").GetString(), Does.Contain("not-even-closed"), "the bad message is kept, not lost");
        Assert.That(RabbitManagement.Header(errors[0], "MT-Fault-Message"), Does.Contain("JSON"));
    }

    [Test, Description("Review finding: JSON whose fields do not fit SubmitJob faults with a bare JsonException, which was left unrecorded.")]
    public async Task A_body_whose_field_has_the_wrong_type_fails_its_job_with_the_reason()
    {
        await using var worker = await TestWorker.StartAsync();
        using var rabbit = new RabbitManagement();
        var jobId = Guid.NewGuid();

        await rabbit.PublishAsync(worker.Queue, $$"""{"jobId": "{{jobId}}", "jobType": "noop", "maxAttempts": "five"}""");

        var job = await TestJobs.WaitForStateAsync(jobId, JobState.Failed, Timeout);
        var errors = await rabbit.WaitForMessagesAsync($"{worker.Queue}_error", 1, Timeout);
        Assert.That(job.Error, Does.StartWith("Unreadable SubmitJob").And.Contain("maxAttempts").IgnoreCase);
        Assert.That(errors, Has.Count.EqualTo(1), "the message is kept, not lost");
    }

    [Test, Description("The recorder fails the job an unreadable body submits, never a job its payload names.")]
    public async Task An_unreadable_body_fails_its_own_job_and_leaves_a_job_named_in_its_payload_alone()
    {
        await using var worker = await TestWorker.StartAsync();
        using var rabbit = new RabbitManagement();
        var victim = Guid.NewGuid();
        var raw = Guid.NewGuid();
        var enveloped = Guid.NewGuid();
        await rabbit.PublishAsync(worker.Queue, $$"""{"jobId": "{{victim}}", "jobType": "noop", "delay": "01:00:00"}""");
        await TestJobs.WaitForStateAsync(victim, JobState.Pending, Timeout);

        await rabbit.PublishAsync(worker.Queue, $$"""{"payload": {"jobId": "{{victim}}"}, "jobId": "{{raw}}", "jobType": "noop", "payload": {""");
        await rabbit.PublishAsync(worker.Queue,
            $$"""{"messageId": "{{Guid.NewGuid()}}", "messageType": ["urn:message:JobWorker.Contracts:SubmitJob"], "message": {"payload": {"jobId": "{{victim}}"}, "jobId": "{{enveloped}}", "jobType": """,
            contentType: "application/vnd.masstransit+json");

        await TestJobs.WaitForStateAsync(raw, JobState.Failed, Timeout);
        await TestJobs.WaitForStateAsync(enveloped, JobState.Failed, Timeout);
        var job = await TestJobs.Store.FindAsync(victim, CancellationToken.None);
        Assert.That(job!.State, Is.EqualTo(JobState.Pending));
    }
}
