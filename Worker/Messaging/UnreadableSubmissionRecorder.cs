using System.Text;
using System.Text.RegularExpressions;
using JobWorker.Jobs;
using JobWorker.Resilience;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>
/// A body that cannot be deserialized (malformed JSON, invalid UTF-8, not an object) never reaches the consumer;
/// MassTransit moves it to the error queue. This observer makes that visible: it logs one line naming the problem,
/// and when a job id can still be read from the raw bytes, it records that job as Failed with the reason.
/// </summary>
internal sealed partial class UnreadableSubmissionRecorder(
    JobStore store, IOptions<JobOptions> options, ILogger<UnreadableSubmissionRecorder> logger) : IReceiveObserver
{
    // Latin-1 maps every byte to one char, so this works on bodies that are not valid UTF-8 or not valid JSON.
    [GeneratedRegex("\"jobId\"\\s*:\\s*\"([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})\"", RegexOptions.IgnoreCase)]
    private static partial Regex JobIdPattern();

    public async Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        if (QueueNames.Of(context.InputAddress) != QueueNames.Jobs(options.Value))
        {
            return;
        }

        var reason = $"Unreadable SubmitJob: {ExceptionChain.Innermost(exception).Message}";
        try
        {
            var body = Head(context.Body);
            if (JobIdPattern().Match(body) is { Success: true } match && Guid.TryParse(match.Groups[1].Value, out var jobId) && jobId != Guid.Empty)
            {
                var recorded = await store.RejectUnreadableAsync(jobId, reason, options.Value.QueueName, context.CancellationToken);
                LogUnreadable(logger, context.TransportHeaders.Get<string>("MessageId") ?? "(without id)", reason,
                    recorded ? $"job {jobId} marked Failed" : $"job {jobId} was already further along and is left as it is");
            }
            else
            {
                LogUnreadable(logger, context.TransportHeaders.Get<string>("MessageId") ?? "(without id)", reason, "no job id could be read");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRecordFailed(logger, e, reason);
        }
    }

    /// <summary>The body's first bytes, as Latin-1: enough to find the job id, without reading an oversized body whole.</summary>
    private static string Head(MessageBody body)
    {
        var head = new byte[16 * 1024];
        using var stream = body.GetStream();
        var read = 0;
        for (int n; read < head.Length && (n = stream.Read(head, read, head.Length - read)) > 0;)
        {
            read += n;
        }

        return Encoding.Latin1.GetString(head, 0, read);
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} moved to the error queue. {Reason}; {Outcome}")]
    private static partial void LogUnreadable(ILogger logger, string messageId, string reason, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record an unreadable submission ({Reason})")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string reason);
}
