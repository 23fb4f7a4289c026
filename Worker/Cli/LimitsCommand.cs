using System.CommandLine;
using JobWorker.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Cli;

/// <summary>
/// <c>jobworker limits</c>: each job type this configuration limits (<c>Limits:&lt;type&gt;</c>), its limits, the places in
/// use now across the fleet, the jobs waiting, the starts in the current rate window and the busiest concurrency keys.
/// </summary>
internal static class LimitsCommand
{
    public static Command Create(IConfiguration configuration)
    {
        var command = new Command("limits", "Show each limited job type: its limits, places in use, jobs waiting and starts in the rate window.");
        command.SetAction((_, cancellationToken) => JobsCommand.WithStoreAsync(configuration, async services =>
        {
            var usages = await services.GetRequiredService<JobLimitsView>().ListAsync(cancellationToken);
            if (usages.Count == 0)
            {
                Console.WriteLine("No job type is limited (set Limits:<type>:Concurrency, PerKeyConcurrency or Rate).");
            }

            foreach (var usage in usages)
            {
                Console.WriteLine(Describe(usage));
            }

            return CliErrors.Ok;
        }));
        return command;
    }

    private static string Describe(LimitUsage usage)
    {
        var rule = usage.Rule;
        var parts = new List<string> { $"{rule.Type}: {rule.Describe()}", $"running {usage.InUse}" + (rule.Concurrency is { } places ? $"/{places}" : "") };
        if (rule.Rate is { } rate)
        {
            parts.Add($"started {usage.StartsInWindow}/{rate.Count} in the window");
        }

        parts.Add($"waiting {usage.Waiting}");
        if (usage.Keys.Count > 0)
        {
            parts.Add("keys " + string.Join(" ", usage.Keys.Select(k => $"{k.Key}={k.Running}")));
        }

        return string.Join("; ", parts);
    }
}
