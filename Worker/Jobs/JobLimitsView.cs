using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>What each limited type of this configuration uses now, for the CLI's <c>limits</c> and the dashboard's Limits page.</summary>
internal sealed class JobLimitsView(JobStore store, IOptions<JobLimitsOptions> limits)
{
    /// <summary>One entry per limited type, by type name; empty when no type is limited.</summary>
    public async Task<List<LimitUsage>> ListAsync(CancellationToken cancellationToken)
    {
        var usages = new List<LimitUsage>();
        foreach (var rule in limits.Value.Rules.Values.OrderBy(r => r.Type, StringComparer.Ordinal))
        {
            usages.Add(await store.LimitUsageAsync(rule, cancellationToken));
        }

        return usages;
    }
}
