using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace JobWorker.Client;

/// <summary>Checks <see cref="JobClientOptions"/> at start, naming the key of each setting that is wrong.</summary>
internal sealed partial class JobClientOptionsValidator : IValidateOptions<JobClientOptions>
{
    public ValidateOptionsResult Validate(string? name, JobClientOptions options)
    {
        var errors = new List<string>();
        if (!QueueName().IsMatch(options.QueueName ?? ""))
        {
            errors.Add("Jobs:QueueName must be 1 to 200 letters, digits, '.', '_' or '-'.");
        }

        var rabbit = options.RabbitMq;
        if (rabbit.Hosts.Length == 0 && string.IsNullOrWhiteSpace(rabbit.Host))
        {
            errors.Add("RabbitMq:Host is required.");
        }

        if (rabbit.Port is < 1 or > 65535)
        {
            errors.Add("RabbitMq:Port must be between 1 and 65535.");
        }

        foreach (var entry in rabbit.Hosts)
        {
            if (!BrokerNode.TryParse(entry, out _, out var error))
            {
                errors.Add($"RabbitMq:Hosts: {error}.");
            }
        }

        if (string.IsNullOrWhiteSpace(rabbit.VirtualHost))
        {
            errors.Add("RabbitMq:VirtualHost is required.");
        }

        if (string.IsNullOrWhiteSpace(rabbit.Username))
        {
            errors.Add("RabbitMq:Username is required.");
        }

        if (rabbit.PublishTimeout < TimeSpan.FromMilliseconds(100) || rabbit.PublishTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add("RabbitMq:PublishTimeout must be between 100 ms and 5 min.");
        }

        if (options.StatusTimeout < TimeSpan.FromMilliseconds(100) || options.StatusTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add("JobClient:StatusTimeout must be between 100 ms and 5 min.");
        }

        if (options.MaxPayloadBytes is < 2 or > 64 * 1024 * 1024)
        {
            errors.Add("JobClient:MaxPayloadBytes must be between 2 and 67108864.");
        }

        if (options.DefaultMaxAttempts is < JobSubmission.MinAttempts or > JobSubmission.MaxAttempts)
        {
            errors.Add($"JobClient:DefaultMaxAttempts must be between {JobSubmission.MinAttempts} and {JobSubmission.MaxAttempts}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,200}$")]
    private static partial Regex QueueName();
}
