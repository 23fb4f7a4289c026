using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Stops the worker at start while a limit is invalid: a bad number or rate, an unknown field, or a job type no handler of
/// this replica runs (a misspelt type would limit nothing), one line per problem naming its setting. Tools that run no
/// handlers (the CLI) have no catalog, and check the values alone.
/// </summary>
internal sealed class JobLimitsValidator(IServiceProvider services) : IValidateOptions<JobLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, JobLimitsOptions options)
    {
        var problems = options.Problems.ToList();
        var catalog = services.GetService<JobHandlerCatalog>();
        foreach (var type in catalog is null ? [] : options.Rules.Keys)
        {
            if (RecurringDefinitions.TypeProblem(type, catalog!) is { } problem)
            {
                problems.Add($"{JobLimitsOptions.Section}:{type}: {problem}.");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
