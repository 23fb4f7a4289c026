using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Jobs;

/// <summary>The job types this worker can run, and the lookup of a type's handler.</summary>
internal sealed class JobHandlerCatalog
{
    private readonly HashSet<string> _types;

    public JobHandlerCatalog(IEnumerable<JobHandlerRegistration> registrations)
    {
        _types = new HashSet<string>(StringComparer.Ordinal);
        foreach (var registration in registrations)
        {
            if (!_types.Add(registration.JobType))
            {
                throw new InvalidOperationException(
                    $"Job type '{registration.JobType}' has more than one handler; register each job type once.");
            }
        }

        JobTypes = [.. _types.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> JobTypes { get; }

    public bool Handles(string jobType) => _types.Contains(jobType);

    /// <summary>The handler for <paramref name="jobType"/> from the caller's scope, or null when the type is unknown.</summary>
    public IJobHandler? Resolve(IServiceProvider scope, string jobType) =>
        Handles(jobType) ? scope.GetRequiredKeyedService<IJobHandler>(jobType) : null;

    public string DescribeUnknown(string jobType) =>
        $"Unknown job type '{jobType}'. This worker handles: {(JobTypes.Count == 0 ? "(none)" : string.Join(", ", JobTypes))}.";
}
