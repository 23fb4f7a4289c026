using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore;

namespace JobWorker.Tests;

/// <summary>Builds submissions and reads jobs back from the test database.</summary>
public static class TestJobs
{
    public static JobStore Store { get; } = new(TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()), TransitionResilience.None);

    public static SubmitJob Submit(string type, object? payload = null, int? maxAttempts = null, TimeSpan? timeout = null) => new()
    {
        JobId = Guid.NewGuid(),
        JobType = type,
        Payload = JsonSerializer.SerializeToElement(payload ?? new { }),
        MaxAttempts = maxAttempts,
        Timeout = timeout,
    };

    public static List<SubmitJob> Delays(int count, int ms) =>
        [.. Enumerable.Range(0, count).Select(_ => Submit("delay", new { ms }))];

    public static Task<Dictionary<JobState, int>> CountAsync(IEnumerable<SubmitJob> jobs) =>
        Store.CountByStateAsync([.. jobs.Select(j => j.JobId)], CancellationToken.None);

    /// <summary>Waits (bounded) until every job is in a terminal state; returns the counts by state.</summary>
    public static Task<Dictionary<JobState, int>> WaitUntilFinishedAsync(IReadOnlyCollection<SubmitJob> jobs, TimeSpan timeout) =>
        Eventually.WaitForAsync(
            () => CountAsync(jobs),
            counts => counts.Where(c => c.Key.IsTerminal()).Sum(c => c.Value) == jobs.Count,
            timeout,
            $"{jobs.Count} jobs to finish");

    public static async Task<Job> WaitForStateAsync(Guid id, JobState state, TimeSpan timeout) =>
        (await Eventually.WaitForAsync(
            () => Store.FindAsync(id, CancellationToken.None),
            job => job?.State == state,
            timeout,
            $"job {id} to be {state}"))!;

    /// <summary>The rows of <paramref name="jobs"/> as stored.</summary>
    public static async Task<List<Job>> LoadAsync(IEnumerable<SubmitJob> jobs)
    {
        var ids = jobs.Select(j => j.JobId).ToList();
        await using var db = TestEnvironment.CreateContextFactory(TestEnvironment.ConnectionString()).CreateDbContext();
        return await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToListAsync();
    }

    public static string Describe(Dictionary<JobState, int> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"));
}
