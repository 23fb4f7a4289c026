using System.Text;
using System.Text.Json;
using JobWorker.Persistence;

namespace JobWorker.Tests.Integration;

/// <summary>
/// Each kind of bad input, published as a non-.NET client would: the message lands in the error queue with a
/// reason naming the problem, the job is Failed with that reason when its id can be read, and the worker
/// keeps consuming.
/// </summary>
public sealed class BadInputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private TestWorker _worker = null!;
    private RabbitManagement _rabbit = null!;

    [OneTimeSetUp]
    public async Task StartWorker()
    {
        _worker = await TestWorker.StartAsync(new() { ["Submissions:MaxPayloadBytes"] = "1024" });
        _rabbit = new RabbitManagement();
    }

    [OneTimeTearDown]
    public async Task StopWorker()
    {
        _rabbit.Dispose();
        await _worker.DisposeAsync();
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("malformed JSON", id => $$$"""{"jobId": "{{{id}}}", "jobType": "noop", "payload": {""", "Expected depth to be zero", idReadable: true);
        yield return Case("a body that is not a SubmitJob", _ => """{"hello": "world"}""", "JobId is missing or empty", idReadable: false);
        yield return Case("a JSON array", _ => "[1, 2, 3]", "could not be converted to JobWorker.Contracts.SubmitJob", idReadable: false);
        yield return Case("an empty JobId", _ => """{"jobId": "00000000-0000-0000-0000-000000000000", "jobType": "noop"}""", "JobId is missing or empty", idReadable: false);
        yield return Case("a missing JobType", id => $$$"""{"jobId": "{{{id}}}", "payload": {}}""", "JobType is missing or empty.", idReadable: true);
        yield return Case("an unknown job type", id => $$$"""{"jobId": "{{{id}}}", "jobType": "teleport"}""", "Unknown job type 'teleport'", idReadable: true);
        yield return Case("an oversized payload", id => $$$"""{"jobId": "{{{id}}}", "jobType": "noop", "payload": {"blob": "{{{new string('x', 2000)}}}"}}""",
            "the limit (Submissions:MaxPayloadBytes) is 1024", idReadable: true);
        yield return Case("a payload far over the limit", id => $$$"""{"jobId": "{{{id}}}", "jobType": "noop", "payload": {"blob": "{{{new string('x', 80_000)}}}"}}""",
            "the limit (Submissions:MaxPayloadBytes) is 1024", idReadable: true);
        yield return Case("a 60-day timeout", id => $$$"""{"jobId": "{{{id}}}", "jobType": "noop", "timeout": "60.00:00:00"}""",
            "at most 1.00:00:00 (Submissions:MaxTimeout)", idReadable: true);
        yield return Case("a number PostgreSQL's jsonb cannot hold", id => $$$"""{"jobId": "{{{id}}}", "jobType": "noop", "payload": {"n": 1e1000000}}""",
            "The database refused the job: 22003", idReadable: true);
        yield return Case("a priority out of range", id => $$$"""{"jobId": "{{{id}}}", "jobType": "noop", "priority": 12}""",
            "Priority is 12; it must be between 0 and 9.", idReadable: true);
        yield return Case("a NUL character in the payload", id => $$$"""{"jobId": "{{{id}}}", "jobType": "noop", "payload": {"s": "a\u0000b"}}""",
            "Payload contains a NUL character", idReadable: true);
    }

    private static TestCaseData Case(string name, Func<Guid, string> body, string reason, bool idReadable) =>
        new TestCaseData(body, reason, idReadable).SetName($"Bad input is rejected with its reason: {name}");

    [TestCaseSource(nameof(Cases))]
    public async Task Bad_input_is_rejected_with_its_reason(Func<Guid, string> body, string reason, bool idReadable)
    {
        var jobId = Guid.NewGuid();
        var text = body(jobId);

        await _rabbit.PublishAsync(_worker.Queue, text);

        await AssertRejectedAsync(text, jobId, reason, idReadable);
    }

    [Test]
    public async Task A_payload_the_handler_rejects_fails_the_job_with_its_reason_after_the_delivery_was_acknowledged()
    {
        var jobId = Guid.NewGuid();

        await _rabbit.PublishAsync(_worker.Queue, $$$"""{"jobId": "{{{jobId}}}", "jobType": "delay", "payload": {"ms": "soon"}}""");

        var job = await TestJobs.WaitForStateAsync(jobId, JobState.Failed, Timeout);
        Assert.That(job.Error, Does.Contain("\"ms\" must be a whole number"));
        Assert.That(job.Attempt, Is.EqualTo(1), "it ran once and was not retried");
        Assert.That((await _rabbit.PeekAsync($"{_worker.Queue}_error", 50)).Select(RabbitManagement.Body), Has.None.Contains(jobId.ToString()),
            "the handler ran after the delivery was acknowledged: the ledger holds the failure");
    }

    [Test, Description("Issue 21, item 7: a plain-JSON field of the wrong type is named in the job's error, with what was expected.")]
    public async Task A_field_of_the_wrong_type_is_named_in_the_jobs_error()
    {
        var cases = new (string Field, string Error)[]
        {
            ("\"timeout\": 30", "Unreadable SubmitJob: timeout: expected \"hh:mm:ss\", got a number"),
            ("\"delay\": \"soon\"", "Unreadable SubmitJob: delay: expected \"hh:mm:ss\", got \"soon\""),
            ("\"runAt\": 1700000000", "Unreadable SubmitJob: runAt: expected a date and time such as \"2026-12-31T23:59:00Z\", got a number"),
            ("\"maxAttempts\": \"3\"", "Unreadable SubmitJob: maxAttempts: expected a number, got a string"),
            ("\"priority\": 1.5", "Unreadable SubmitJob: priority: expected a whole number from -2147483648 to 2147483647, got 1.5"),
            ("\"after\": [\"not-a-job\"]", "Unreadable SubmitJob: after[0]: expected a GUID such as \"0f8fad5b-d9cb-469f-a165-70867728950e\", got \"not-a-job\""),
            ("\"afterAny\": \"yes\"", "Unreadable SubmitJob: afterAny: expected true or false, got a string"),
        };
        var jobs = cases.Select(c => (Id: Guid.NewGuid(), c.Error)).ToList();
        foreach (var ((id, _), (field, _)) in jobs.Zip(cases))
        {
            await _rabbit.PublishAsync(_worker.Queue, $$$"""{"jobId": "{{{id}}}", "jobType": "noop", {{{field}}}}""");
        }

        foreach (var (id, error) in jobs)
        {
            var job = await TestJobs.WaitForStateAsync(id, JobState.Failed, Timeout);
            Assert.That(job.Error, Is.EqualTo(error));
        }
    }

    [Test]
    public async Task Bad_input_is_rejected_with_its_reason_invalid_utf8()
    {
        var jobId = Guid.NewGuid();
        var bytes = Encoding.UTF8.GetBytes($$$"""{"jobId": "{{{jobId}}}", "jobType": "noop", "payload": {"s": "??"}}""");
        var at = Array.IndexOf(bytes, (byte)'?');
        (bytes[at], bytes[at + 1]) = (0xFF, 0xFE);

        await _rabbit.PublishAsync(_worker.Queue, bytes);

        await AssertRejectedAsync(Encoding.Latin1.GetString(bytes), jobId, "Unable to translate bytes [FF]", idReadable: true);
    }

    private async Task AssertRejectedAsync(string body, Guid jobId, string reason, bool idReadable)
    {
        var rejected = await Eventually.WaitForAsync(
            async () => (await _rabbit.PeekAsync($"{_worker.Queue}_error", 50)).FirstOrDefault(m => RabbitManagement.Body(m) == body),
            message => message.ValueKind == JsonValueKind.Object, Timeout, "the message in the error queue");
        Assert.That(RabbitManagement.Header(rejected, "MT-Fault-Message"), Does.Contain(reason).IgnoreCase, "the error queue says why");

        if (idReadable)
        {
            var job = await TestJobs.WaitForStateAsync(jobId, JobState.Failed, Timeout);
            Assert.That(job.Error, Does.Contain(reason).IgnoreCase);
        }

        var next = TestJobs.Submit("noop");
        await _rabbit.PublishAsync(_worker.Queue, JsonSerializer.Serialize(new { jobId = next.JobId, jobType = "noop" }));
        await TestJobs.WaitForStateAsync(next.JobId, JobState.Succeeded, Timeout);
    }
}
