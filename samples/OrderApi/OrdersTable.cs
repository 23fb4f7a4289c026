using Npgsql;

namespace OrderApi;

/// <summary>Creates the app's own <c>orders</c> table at start when it is missing (a real app would use its migrations).</summary>
public sealed class OrdersTable(NpgsqlDataSource dataSource) : IHostedService
{
    private const string Create = """
        CREATE TABLE IF NOT EXISTS orders (
            id uuid PRIMARY KEY,
            customer text NOT NULL,
            amount numeric(12, 2) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now())
        """;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Create);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
