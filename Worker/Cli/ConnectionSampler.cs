using Npgsql;

namespace JobWorker.Cli;

/// <summary>
/// Watches pg_stat_activity for the workers' connections (application name <c>jobworker/…</c>) and keeps the
/// peaks: connections busy at once across all replicas, and connections open in any one replica's pool.
/// </summary>
internal sealed class ConnectionSampler(NpgsqlDataSource dataSource, TimeSpan interval) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public int PeakBusy { get; private set; }
    public int PeakOpenPerReplica { get; private set; }
    public int Replicas => _replicas.Count;
    public long Samples { get; private set; }

    private readonly HashSet<string> _replicas = [];

    public void Start() => _loop = Task.Run(() => SampleAsync(_stop.Token));

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT application_name, count(*)::int, (count(*) FILTER (WHERE state <> 'idle'))::int
            FROM pg_stat_activity
            WHERE application_name LIKE 'jobworker/%'
            GROUP BY application_name
            """, connection);
        await command.PrepareAsync(cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            var busy = 0;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    _replicas.Add(reader.GetString(0));
                    PeakOpenPerReplica = Math.Max(PeakOpenPerReplica, reader.GetInt32(1));
                    busy += reader.GetInt32(2);
                }
            }

            PeakBusy = Math.Max(PeakBusy, busy);
            Samples++;
            await Task.Delay(interval, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_loop is not null)
            {
                await _loop;
            }
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
