using System.Diagnostics.Metrics;

namespace JobWorker.Telemetry;

/// <summary>
/// Reads Npgsql's own pool meter for one pool, on demand: connections in use and idle, the pool's maximum, and
/// timeouts. The status log, the bench and the tests read the pool through it.
/// </summary>
internal sealed class NpgsqlPoolUsage : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private string _pool = "";
    private long _used;
    private long _idle;
    private long _max;
    private readonly Dictionary<string, long> _timeouts = [];
    private readonly Lock _timeoutsGate = new();

    public NpgsqlPoolUsage()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name is "db.client.connection.count" or "db.client.connection.max" or "db.client.connection.npgsql.timeouts")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Connections of <paramref name="poolName"/> in use and idle right now, and its Maximum Pool Size.</summary>
    public (long Used, long Idle, long Max) Read(string poolName)
    {
        lock (_gate)
        {
            (_pool, _used, _idle, _max) = (poolName, 0, 0, 0);
            _listener.RecordObservableInstruments();
            return (_used, _idle, _max);
        }
    }

    /// <summary>Times a request for a connection of <paramref name="poolName"/> gave up waiting (pool exhausted), so far.</summary>
    public long Timeouts(string poolName)
    {
        lock (_timeoutsGate)
        {
            return _timeouts.GetValueOrDefault(poolName);
        }
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? pool = null, state = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "db.client.connection.pool.name")
            {
                pool = tag.Value as string;
            }
            else if (tag.Key == "db.client.connection.state")
            {
                state = tag.Value as string;
            }
        }

        if (instrument.Name == "db.client.connection.npgsql.timeouts")
        {
            // A plain counter: it reports each timeout when it happens, for whichever pool it happened in.
            lock (_timeoutsGate)
            {
                _timeouts[pool ?? ""] = _timeouts.GetValueOrDefault(pool ?? "") + value;
            }

            return;
        }

        if (pool != _pool)
        {
            return;
        }

        if (instrument.Name == "db.client.connection.max")
        {
            _max += value;
        }
        else if (state == "used")
        {
            _used += value;
        }
        else if (state == "idle")
        {
            _idle += value;
        }
    }

    public void Dispose() => _listener.Dispose();
}
