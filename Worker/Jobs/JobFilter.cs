using JobWorker.Persistence;
using Microsoft.EntityFrameworkCore;

namespace JobWorker.Jobs;

/// <summary>
/// Which jobs an operator means: by state, type, owner, text in the error, and when they were created. The jobs list and the
/// bulk retry read it the same way, so "retry all failed jobs matching this filter" retries exactly the listed ones.
/// </summary>
internal sealed record JobFilter
{
    public JobState? State { get; init; }

    public string? Type { get; init; }

    /// <summary>The replica that owns (or last owned) the job.</summary>
    public string? Owner { get; init; }

    /// <summary>Text the error contains, case-insensitively (searched through a trigram index).</summary>
    public string? ErrorContains { get; init; }

    /// <summary>Created at or after this.</summary>
    public DateTime? CreatedFrom { get; init; }

    /// <summary>Created before this.</summary>
    public DateTime? CreatedTo { get; init; }

    public static JobFilter All { get; } = new();

    /// <summary>
    /// Whether jobs in <paramref name="state"/> can match at all: a Succeeded job has no error (success clears it), so
    /// a search of errors never needs to read the Succeeded jobs, by far the most numerous.
    /// </summary>
    public bool CanMatch(JobState state) => (State is null || State == state) && (ErrorContains is null || state != JobState.Succeeded);

    public bool IsEmpty => this == All;

    /// <summary>Only the jobs this filter matches.</summary>
    public IQueryable<Job> Apply(IQueryable<Job> jobs)
    {
        if (State is { } state)
        {
            jobs = jobs.Where(j => j.State == state);
        }

        if (!string.IsNullOrEmpty(Type))
        {
            jobs = jobs.Where(j => j.Type == Type);
        }

        if (!string.IsNullOrEmpty(Owner))
        {
            jobs = jobs.Where(j => j.Owner == Owner);
        }

        if (!string.IsNullOrEmpty(ErrorContains))
        {
            var pattern = $"%{EscapeLike(ErrorContains)}%";
            jobs = jobs.Where(j => j.Error != null && EF.Functions.ILike(j.Error, pattern, @"\"));
        }

        if (CreatedFrom is { } from)
        {
            jobs = jobs.Where(j => j.CreatedAt >= from);
        }

        if (CreatedTo is { } to)
        {
            jobs = jobs.Where(j => j.CreatedAt < to);
        }

        return jobs;
    }

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
}
