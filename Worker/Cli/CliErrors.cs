using JobWorker.Hosting;
using JobWorker.Resilience;
using Microsoft.AspNetCore.Connections;
using System.Text.RegularExpressions;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using System.Net.Sockets;
using JobWorker.Messaging;
using Microsoft.Extensions.Configuration;

namespace JobWorker.Cli;

/// <summary>Turns the failures a user can fix (configuration, unreachable services) into one clear line and an exit code.</summary>
internal static partial class CliErrors
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int Unavailable = 3;

    public static async Task<int> RunAsync(Func<Task<int>> command)
    {
        try
        {
            return await command();
        }
        catch (OptionsValidationException e)
        {
            return Report($"configuration error: {string.Join(" ", e.Failures)}", BadInput);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0 && e.InnerExceptions.All(i => i is OptionsValidationException))
        {
            // The host validates every options type at start and throws them together when more than one fails.
            return Report($"configuration error: {string.Join(" ", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(v => v.Failures))}", BadInput);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            return Report($"configuration error: {e.Message}", BadInput);
        }
        catch (Exception e) when (ExceptionChain.Find<AddressInUseException>(e) is not null)
        {
            return Report(PortInUse(e), BadInput);
        }
        catch (Exception e) when (ExceptionChain.Find<PostgresException>(e) is { SqlState: PostgresErrorCodes.UndefinedTable } missing)
        {
            return Report($"the job tables are missing ({missing.MessageText}): run `{Executable} migrate` first, or set Database:MigrateOnStart=true", Unavailable);
        }
        catch (Exception e) when (ExceptionChain.Find<NpgsqlException>(e) is { } database && ExceptionChain.Find<SocketException>(database) is { } socket)
        {
            return Report($"PostgreSQL at {DatabaseAddress()} is unreachable (Database:ConnectionString): {socket.Message}", Unavailable);
        }
        catch (Exception e) when (ExceptionChain.Find<NpgsqlException>(e) is { } database)
        {
            // EF wraps connection failures in its own exceptions; the Npgsql one says what is wrong.
            return Report($"database unavailable: {database.Message}{(database.InnerException is null ? "" : $" ({database.InnerException.Message})")}", Unavailable);
        }
        catch (Exception e) when (BrokerErrors.IsUnreachable(e))
        {
            // Known by type, not by message: MassTransit's and RabbitMQ.Client's texts differ by version and case.
            return Report($"RabbitMQ at {BrokerAddress()} is unreachable (RabbitMq:Host/Port/Hosts): {BrokerErrors.Reason(e)}", Unavailable);
        }
        catch (Exception e) when (e is MassTransitException && e.Message.Contains("RabbitMQ", StringComparison.OrdinalIgnoreCase))
        {
            return Report($"broker unavailable: {e.Message}", Unavailable);
        }
    }

    /// <summary>The application's configuration, for naming the service a command could not reach.</summary>
    public static IConfiguration? Configuration { get; set; }

    /// <summary>A listener's port in use, named by its setting: Kestrel's message holds the address it could not bind.</summary>
    private static string PortInUse(Exception e)
    {
        var match = BindFailure().Match(e.Message);
        var address = match.Success ? match.Groups["address"].Value : "its address";
        var port = match.Success ? JobWorkerListeners.PortOf(address) : -1;
        var setting = Configuration is null ? null : JobWorkerListeners.SettingFor(port, Configuration);
        return setting is null
            ? $"{address} is in use: another process listens there; give the application a free address (urls, ASPNETCORE_URLS or Kestrel:Endpoints)"
            : $"{setting} {port} is in use ({address}): another process listens there; set {setting} to a free port";
    }

    [GeneratedRegex(@"address (?<address>\S+): address already in use", RegexOptions.IgnoreCase)]
    private static partial Regex BindFailure();

    private static string BrokerAddress()
    {
        try
        {
            var options = new RabbitMqOptions();
            Configuration?.GetSection("RabbitMq").Bind(options);
            return BrokerNode.Describe(options.Nodes());
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            return "the configured broker";
        }
    }

    private static string DatabaseAddress()
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(Configuration?["Database:ConnectionString"] ?? "");
            return $"{builder.Host}:{builder.Port}";
        }
        catch (ArgumentException)
        {
            return "the configured database";
        }
    }

    /// <summary>The executable's name as the user typed it: <c>jobworker</c>, or a team's own host.</summary>
    public static string Executable { get; } = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "jobworker";

    public static int Report(string message, int exitCode)
    {
        Console.Error.WriteLine($"{Executable}: {message}");
        return exitCode;
    }
}
