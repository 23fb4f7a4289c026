using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Persistence;

/// <summary>Checks that the connection string parses, naming the key and the problem when it does not.</summary>
internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Skip; // the [Required] attribute reports it
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                return ValidateOptionsResult.Fail("Database:ConnectionString has no Host.");
            }

            return builder.MaxPoolSize < 1
                ? ValidateOptionsResult.Fail("Database:ConnectionString: Maximum Pool Size must be at least 1.")
                : ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            return ValidateOptionsResult.Fail($"Database:ConnectionString is not a valid Npgsql connection string: {e.Message}");
        }
    }
}
