using System.Net.Mime;
using System.Text;
using JobWorker.Messaging;

namespace JobWorker.Tests.Messaging;

public sealed class UnreadableSubmissionRecorderTests
{
    private static readonly Guid Own = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly Guid Victim = Guid.Parse("99999999-8888-7777-6666-555555555555");
    private static readonly ContentType Raw = new("application/json");
    private static readonly ContentType Envelope = new("application/vnd.masstransit+json");

    public static IEnumerable<TestCaseData> Bodies()
    {
        yield return Case(Raw, $$"""{"jobId": "{{Own}}", "jobType": "noop", "payload": {"jobId": "{{Victim}}"}, """, Own,
            "The top-level job id is read when the payload names another job after it");
        yield return Case(Raw, $$"""{"payload": {"jobId": "{{Victim}}"}, "jobId": "{{Own}}", "jobType": "noop", "payload": {""", Own,
            "The top-level job id is read when the payload naming another job comes first");
        yield return Case(Raw, $$"""{"payload": ["x", {"jobId": "{{Victim}}"}], "JOBID": "{{Own}}", "jobType": 1 2""", Own,
            "The top-level job id is read case-insensitively past a job id in an array");
        yield return Case(Raw, $$"""{"payload": {"jobId": "{{Victim}}"}, "jobType": "noop", """, null,
            "No job id is read when only the payload names one");
        yield return Case(Raw, $$"""{"payload": "say \"jobId\": \"{{Victim}}\"", "jobId": "{{Own}}", "x": """, Own,
            "A job id inside a string value is not read");
        yield return Case(Raw, $$"""{"payload": {"a": 1 "jobId": "{{Victim}}"}, "jobId": "{{Own}}"}""", null,
            "Nothing after the first structural error is read");
        yield return Case(Raw, $$"""[{"jobId": "{{Victim}}"}]""", null,
            "A body that is not an object has no job id");
        yield return Case(Raw, $$"""{"message": {"jobId": "{{Victim}}"}, "jobType": "noop", """, null,
            "A raw JSON body's job id is not read from a property named message");
        yield return Case(Raw, $$"""{"jobId": "{{Own}}", "payload": {}, "jobId": "{{Victim}}"}""", null,
            "Two different top-level job ids are read as none");
        yield return Case(Raw, """{"jobId": "not-a-guid", "jobType": "noop"}""", null,
            "A job id that is not a GUID is not read");
        yield return Case(Raw, $$"""{"jobId": "{{Guid.Empty}}", "jobType": "noop"}""", null,
            "The empty GUID is not read");
        yield return Case(Raw, $$"""{"jobId": "{{Own:N}}", "jobType": "noop", """, Own,
            "A job id without hyphens is read");
        yield return Case(Raw, $$"""{/* c */ "payload": {"x": [1,], "jobId": "{{Victim}}",}, // note{{"\n"}} "jobId": "{{Own}}", """, Own,
            "Comments and trailing commas, which MassTransit accepts, are read past");
        yield return Case(Envelope, $$"""{"messageId": "{{Guid.NewGuid()}}", "headers": {"jobId": "{{Victim}}"}, "message": {"payload": {"jobId": "{{Victim}}"}, "jobId": "{{Own}}", "jobType": """, Own,
            "An envelope's job id is read from its message");
        yield return Case(Envelope, $$"""{"jobId": "{{Victim}}", "message": {"payload": {"jobId": "{{Victim}}"}, "jobType": "noop", """, null,
            "An envelope whose message has no job id yields none, whatever its top level says");
        yield return Case(null, $$"""{"messageId": "{{Guid.NewGuid()}}", "message": {"jobId": "{{Own}}", "jobType": """, Own,
            "A body without a content type is read as an envelope");
        yield return Case(null, $$"""{"payload": {"jobId": "{{Victim}}"}, "jobId": "{{Own}}", "jobType": """, Own,
            "A body without a content type and without a message is read as raw JSON");
        yield return Case(new ContentType("text/plain"), $$"""{"payload": {"jobId": "{{Victim}}"}, "jobId": "{{Own}}", "jobType": """, Own,
            "A body of another content type and without a message is read as raw JSON");
        yield return Case(Raw, $$"""{"jobId": {"jobId": "{{Victim}}"}, "jobId": "{{Own}}", "jobType": """, Own,
            "A job id nested in a jobId object is not read");
        yield return Case(Raw, $$"""{{"\uFEFF"}}{"jobId": "{{Own}}", "jobType": """, Own,
            "A body that starts with a byte order mark is read");
        yield return Case(Raw, new string('[', 20_000), null,
            "A deeply nested body yields no job id and no stack overflow");
    }

    [TestCaseSource(nameof(Bodies))]
    public void ReadJobId_finds_only_the_message_own_job(ContentType? contentType, byte[] body, Guid? expected)
    {
        Assert.That(UnreadableSubmissionRecorder.ReadJobId(body, contentType), Is.EqualTo(expected));
    }

    [Test, Description("The body is not valid UTF-8; the bytes around the job id still are.")]
    public void ReadJobId_reads_past_bytes_that_are_not_UTF8()
    {
        byte[] body =
        [
            .. Encoding.UTF8.GetBytes("""{"payload": {"s": " """), 0xFF, 0xFE, 0xC3,
            .. Encoding.UTF8.GetBytes($"\", \"jobId\": \"{Victim}\"}}, \"jobId\": \"{Own}\", \"jobType\": \"noop\"}}"),
        ];

        Assert.That(UnreadableSubmissionRecorder.ReadJobId(body, Raw), Is.EqualTo(Own));
    }

    private static TestCaseData Case(ContentType? contentType, string body, Guid? expected, string name) =>
        new TestCaseData(contentType, Encoding.UTF8.GetBytes(body), expected).SetName(name);

    [Test, Description("Only a body MassTransit could not deserialize counts as unreadable; an acknowledgement that meets a dropped " +
                       "connection (a broker node lost after the consumer ran) does not, or its job would be failed while it is redelivered.")]
    public void IsUnreadable_is_true_only_for_a_deserialization_fault()
    {
        var deserialization = new System.Runtime.Serialization.SerializationException("An exception occurred while deserializing the message envelope",
            new System.Text.Json.JsonException("'x' is an invalid start of a value."));
        var transport = new InvalidOperationException("Channel is already closed", new IOException("Connection reset by peer."));

        Assert.That(UnreadableSubmissionRecorder.IsUnreadable(deserialization), Is.True);
        Assert.That(UnreadableSubmissionRecorder.IsUnreadable(new AggregateException(deserialization)), Is.True, "wrapped");
        Assert.That(UnreadableSubmissionRecorder.IsUnreadable(new System.Text.Json.JsonException("The JSON value could not be converted to System.Int32.")),
            Is.True, "JSON whose fields do not fit");
        Assert.That(UnreadableSubmissionRecorder.IsUnreadable(transport), Is.False);
    }

    [Test, Description("An envelope (a .NET publisher with a hand-made body) is described from its message; a body that does not parse, in the parser's words.")]
    public void Describe_names_the_field_of_an_envelope_message_and_falls_back_for_malformed_json()
    {
        var envelope = Encoding.UTF8.GetBytes("""{"messageId": "x", "message": {"jobId": "11111111-2222-3333-4444-555555555555", "maxAttempts": "three"}}""");
        var malformed = Encoding.UTF8.GetBytes("""{"jobId": "11111111-2222-3333-4444-555555555555", "timeout": """);
        var wrongType = new System.Text.Json.JsonException("The JSON value could not be converted to System.Nullable`1[System.Int32]. Path: $.maxAttempts", "$.maxAttempts", 0, 0);
        var cutShort = new System.Runtime.Serialization.SerializationException("An exception occurred while deserializing the message envelope",
            new System.Text.Json.JsonException("Expected depth to be zero at the end of the JSON payload."));

        Assert.That(UnreadableSubmissionRecorder.Describe(new AggregateException(wrongType), envelope, Envelope),
            Is.EqualTo("maxAttempts: expected a number, got a string"));
        Assert.That(UnreadableSubmissionRecorder.Describe(cutShort, malformed, Raw), Is.EqualTo("Expected depth to be zero at the end of the JSON payload."));
    }

    [Test, Description("A raw SubmitJob whose wrong field holds bytes that are not UTF-8: System.Text.Json cannot give the value's text, " +
        "and the description must still be made, or the job is never recorded Failed and the fault escapes into the receive path.")]
    public void Describe_does_not_throw_when_a_wrong_field_holds_bytes_that_are_not_UTF8()
    {
        byte[] body =
        [
            .. Encoding.UTF8.GetBytes($"{{\"jobId\": \"{Own}\", \"jobType\": \"noop\", \"timeout\": \""), 0xFF, 0xFE,
            .. Encoding.UTF8.GetBytes("\"}"),
        ];
        var wrongForm = new System.Text.Json.JsonException("The JSON value could not be converted to System.Nullable`1[System.TimeSpan]. Path: $.timeout", "$.timeout", 0, 0);

        Assert.That(UnreadableSubmissionRecorder.Describe(wrongForm, body, Raw), Does.StartWith("timeout: expected \"hh:mm:ss\", got \""));
    }
}
