using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>
/// Stops the worker at start while a schedule is invalid (bad cron, unknown zone, a job type no handler runs, payload
/// that is not JSON…), with one line per problem naming its setting, as every other setting is checked.
/// </summary>
internal sealed class RecurringDefinitionsValidator(RecurringDefinitions definitions, JobHandlerCatalog catalog) : IValidateOptions<RecurringOptions>
{
    public ValidateOptionsResult Validate(string? name, RecurringOptions options)
    {
        var problems = definitions.Problems.ToList();
        foreach (var definition in definitions.All)
        {
            if (RecurringDefinitions.TypeProblem(definition.Type, catalog) is { } problem)
            {
                problems.Add(definition.Source == RecurringSource.Configuration
                    ? $"{RecurringOptions.Section}:{definition.Key}:Type {problem}."
                    : $"AddRecurringJob(\"{definition.Key}\"): the job type {problem}.");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
