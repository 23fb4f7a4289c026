using JobWorker.Jobs;
using Npgsql;

namespace JobWorker.Cli;

/// <summary>
/// Watches the live replicas of one deployment (its queue's heartbeats in <c>workers</c>) and their connections to its
/// database in pg_stat_activity, and keeps the peaks: connections busy at once across the replicas, and connections open
/// in any one replica's pool. Other deployments on the same server, in this database or another, are not counted.
/// </summary>
internal sealed class ConnectionSampler(NpgsqlDataSource dataSource, string queue, TimeSpan interval) : IAsyncDisposable
{
    /// <summary>A replica whose heartbeat is older than three beats is gone, as the dashboard shows it.</summary>
    private static readonly TimeSpan Live = ReplicaHeartbeat.BeatInterval * 3;

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public int PeakBusy { get; private set; }
    public int PeakOpenPerReplica { get; private set; }
    public int Replicas => _replicas.Count;
    public long Samples { get; private set; }

    private readonly HashSet<string> _replicas = [];

    public void Start() => _loop = Task.Run(() => SampleAsync(_stop.Token));

    /// <summary>Takes one sample; <see cref="Start"/> takes one every interval until disposed.</summary>
    internal async Task SampleOnceAsync(NpgsqlCommand command, CancellationToken cancellationToken)
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
    }

    /// <summary>The sampling statement on <paramref name="connection"/>, prepared: it runs every <c>interval</c>.</summary>
    internal async Task<NpgsqlCommand> PrepareAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(JobSql.ReplicaConnections, connection) { Parameters = { new() { Value = queue }, new() { Value = Live } } };
        await command.PrepareAsync(cancellationToken);
        return command;
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = await PrepareAsync(connection, cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            await SampleOnceAsync(command, cancellationToken);
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
