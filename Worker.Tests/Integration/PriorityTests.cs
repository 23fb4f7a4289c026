using JobWorker.Contracts;
using JobWorker.Messaging;
using JobWorker.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobWorker.Tests.Integration;

/// <summary>
/// Priorities on the real services: a priority-9 job overtakes a backlog of priority-0 jobs already queued (the
/// broker's priority queue), and one that becomes due with them (the ledger's dispatch order); a jobs queue declared
/// before priorities existed is used as it is.
/// </summary>
public sealed class PriorityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int Backlog = 150;

    [Test, Description("Direct path: the backlog and then the priority-9 job are queued before the worker starts; the queue hands out the priority-9 one first.")]
    public async Task High_priority_job_overtakes_queued_backlog_when_slots_are_few()
    {
        var queue = TestWorker.UniqueQueue();
        await using var client = await TestClient.StartAsync(queue);
        var backlog = TestJobs.Delays(Backlog, 30);
        var urgent = TestJobs.Submit("delay", new { ms = 30 }) with { Priority = 9 };
        await client.SendAsync(queue, backlog);
        await client.SendAsync(queue, [urgent]);

        await using var worker = await TestWorker.StartAsync(new() { ["Jobs:QueueName"] = queue, ["Jobs:ConcurrentJobs"] = "2" });
        await TestJobs.WaitUntilFinishedAsync([.. backlog, urgent], Timeout);

        var overtaken = await OvertakenAsync(backlog, urgent);
        Assert.That(overtaken, Is.GreaterThanOrEqualTo(Backlog * 8 / 10), $"the priority-9 job started before {overtaken} of the {Backlog} jobs queued ahead of it");
        using var rabbit = new RabbitManagement();
        Assert.That(await rabbit.PublishAsync(queue, """{"hello": "world"}"""), Is.True);
        // Moved to the error queue, which MassTransit declares with the queue's arguments.
        await rabbit.WaitForMessagesAsync(queue + "_error", 1, Timeout);
        foreach (var name in new[] { queue, queue + "_error" })
        {
            var arguments = (await rabbit.QueueAsync(name)).GetProperty("arguments");
            Assert.That(arguments.TryGetProperty("x-max-priority", out var max) ? max.GetInt32() : 0, Is.EqualTo(9), $"{name} is a priority queue");
        }
    }

    [Test, Description("A jobs queue declared before priorities (no x-max-priority) holding a message: the worker warns once, uses the queue as it is "
        + "and loses nothing; on it, jobs that become due together are dispatched by the ledger highest priority first.")]
    public async Task Queue_declared_without_priority_is_used_as_it_is_and_the_ledger_dispatches_by_priority()
    {
        var queue = TestWorker.UniqueQueue();
        using var rabbit = new RabbitManagement();
        await rabbit.DeclareQueueAsync(queue);
        var waiting = Guid.NewGuid();
        Assert.That(await rabbit.PublishAsync(queue, $$"""{"jobId": "{{waiting}}", "jobType": "noop"}"""), Is.True, "the message was routed to the old queue");
        var logs = new LogCapture();

        await using var worker = await TestWorker.StartAsync(
            new() { ["Jobs:QueueName"] = queue, ["Jobs:ConcurrentJobs"] = "2" },
            w => w.Services.AddSingleton<ILoggerProvider>(logs));

        await TestJobs.WaitForStateAsync(waiting, JobState.Succeeded, Timeout);
        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("x-max-priority", StringComparison.Ordinal)).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1), "one warning about the queue");
        Assert.That(warnings[0].Message, Does.Contain(queue).And.Contain(JobQueuePriority.UpgradeSection));
        Assert.That((await rabbit.QueueAsync(queue)).GetProperty("arguments").TryGetProperty("x-max-priority", out _), Is.False, "the queue kept its declaration");

        await using var client = await TestClient.StartAsync(queue);
        var due = DateTime.UtcNow.AddSeconds(3);
        var backlog = TestJobs.Delays(Backlog, 30).Select(j => j with { RunAt = due }).ToList();
        var urgent = TestJobs.Submit("delay", new { ms = 30 }) with { RunAt = due, Priority = 9 };
        await client.SendAsync(queue, backlog);
        await client.SendAsync(queue, [urgent]);
        await TestJobs.WaitUntilFinishedAsync([.. backlog, urgent], Timeout);

        var overtaken = await OvertakenAsync(backlog, urgent);
        Assert.That(overtaken, Is.GreaterThanOrEqualTo(Backlog * 8 / 10), $"the priority-9 job started before {overtaken} of the {Backlog} jobs due with it");
        Assert.That((await TestJobs.FindAsync(urgent.JobId))!.Priority, Is.EqualTo(9), "the ledger holds the priority");
    }

    /// <summary>How many of <paramref name="backlog"/> started after <paramref name="urgent"/>; every job must have Succeeded.</summary>
    private static async Task<int> OvertakenAsync(List<SubmitJob> backlog, SubmitJob urgent)
    {
        var rows = await TestJobs.LoadAsync([.. backlog, urgent]);
        Assert.That(rows.Select(r => r.State), Has.All.EqualTo(JobState.Succeeded));
        var started = rows.Single(r => r.Id == urgent.JobId).StartedAt;
        return rows.Count(r => r.Id != urgent.JobId && r.StartedAt > started);
    }
}
