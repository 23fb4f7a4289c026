using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Persistence;

/// <summary>
/// Owns the process's one NpgsqlDataSource (one connection pool), like a Celery worker owns its SQLAlchemy
/// engine: initialised once, reset when its connections are known to be broken, disposed on shutdown.
/// </summary>
/// <remarks>
/// Resets are coalesced by generation: every caller passes the generation it saw fail, and only the first
/// caller for that generation resets, so a hundred jobs failing on one broken pool cause one reset.
/// </remarks>
internal sealed partial class JobDatabase : IAsyncDisposable, IDisposable
{
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly DatabaseClientName _clientName;
    private readonly ILogger<JobDatabase> _logger;
    private readonly IDisposable? _settingsChanged;
    private readonly Lock _gate = new();
    private NpgsqlDataSource? _dataSource;
    private int _generation;
    private int _inUse;
    private bool _disposed;

    public JobDatabase(IOptionsMonitor<DatabaseOptions> options, DatabaseClientName clientName, ILogger<JobDatabase> logger)
    {
        _options = options;
        _clientName = clientName;
        _logger = logger;

        // A rotated password or a moved host arrives as reloaded settings: the next connection must use them.
        _settingsChanged = options.OnChange((_, _) => Reset(Generation, "database settings changed", recreate: true));
    }

    /// <summary>Bumped by every reset; failures are reported against the generation they happened in.</summary>
    public int Generation => Volatile.Read(ref _generation);

    public int Resets { get; private set; }

    /// <summary>The pool's name in Npgsql's metrics (<c>db.client.connection.pool.name</c>).</summary>
    public string PoolName { get; private set; } = "";

    /// <summary>Maximum Pool Size of the current data source.</summary>
    public int PoolMax { get; private set; }

    /// <summary>The current data source, created on first use.</summary>
    public NpgsqlDataSource DataSource => Volatile.Read(ref _dataSource) ?? Initialize();

    /// <summary>Creates the data source if there is none. Idempotent and thread-safe.</summary>
    public NpgsqlDataSource Initialize()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _dataSource ??= Build();
        }
    }

    /// <summary>
    /// Clears the pool (idle connections are closed, busy ones are closed when returned), or, with
    /// <paramref name="recreate"/>, replaces the data source with one built from the current settings:
    /// what a host or credential change needs. Does nothing when the generation has moved on already.
    /// </summary>
    /// <returns>True when this call reset the pool.</returns>
    public bool Reset(int failedGeneration, string reason, bool recreate = false)
    {
        NpgsqlDataSource? retired = null;
        lock (_gate)
        {
            if (_disposed || failedGeneration != _generation)
            {
                return false;
            }

            _generation++;
            Resets++;
            if (recreate || _dataSource is null)
            {
                retired = _dataSource;
                _dataSource = Build();
            }
            else
            {
                _dataSource.Clear();
            }
        }

        JobWorkerTelemetry.PoolResets.Add(1, new KeyValuePair<string, object?>("kind", recreate ? "recreate" : "clear"));
        LogReset(_logger, recreate ? "recreated" : "cleared", _generation, reason);
        if (retired is not null)
        {
            // Commands still running on the old source finish or fail (and are retried on the new one).
            _ = retired.DisposeAsync().AsTask();
        }

        return true;
    }

    /// <summary>Marks a transition as using the database until the returned scope is disposed.</summary>
    public InUseScope Use()
    {
        Interlocked.Increment(ref _inUse);
        return new InUseScope(this);
    }

    /// <summary>Disposes the data source once in-flight transitions have finished (waiting at most 10 s).</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlDataSource? dataSource;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _settingsChanged?.Dispose();
            dataSource = _dataSource;
            _dataSource = null;
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref _inUse) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        LogDisposed(_logger, Volatile.Read(ref _inUse), Resets);
        if (dataSource is not null)
        {
            await dataSource.DisposeAsync();
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private NpgsqlDataSource Build()
    {
        var builder = new NpgsqlDataSourceBuilder(_options.CurrentValue.ConnectionString);
        if (string.IsNullOrEmpty(builder.ConnectionStringBuilder.ApplicationName))
        {
            var name = _clientName.Value;
            builder.ConnectionStringBuilder.ApplicationName = name.Length <= 63 ? name : name[..63];
        }

        // Npgsql tags its pool metrics and traces with this name; the status log finds this process's pool by it.
        builder.Name = PoolName = builder.ConnectionStringBuilder.ApplicationName;
        PoolMax = builder.ConnectionStringBuilder.MaxPoolSize;
        return builder.Build();
    }

    public readonly struct InUseScope(JobDatabase database) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref database._inUse);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database connection pool {Action} (generation {Generation}): {Reason}")]
    private static partial void LogReset(ILogger logger, string action, int generation, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database data source disposed ({InUse} transitions still in flight, {Resets} resets in this process's life)")]
    private static partial void LogDisposed(ILogger logger, int inUse, int resets);
}
