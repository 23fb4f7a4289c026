using System.Diagnostics.Metrics;

namespace JobWorker.Telemetry;

/// <summary>Reads Npgsql's own pool meter (connections in use and idle, timeouts) for one pool, on demand.</summary>
public sealed class NpgsqlPoolUsage : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private string _pool = "";
    private long _used;
    private long _idle;
    private long _timeouts;

    public NpgsqlPoolUsage()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name is "db.client.connection.count" or "db.client.connection.npgsql.timeouts")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Connections of <paramref name="poolName"/> in use and idle right now.</summary>
    public (long Used, long Idle) Read(string poolName)
    {
        lock (_gate)
        {
            (_pool, _used, _idle, _timeouts) = (poolName, 0, 0, 0);
            _listener.RecordObservableInstruments();
            return (_used, _idle);
        }
    }

    /// <summary>Times a request for a connection of <paramref name="poolName"/> gave up waiting (pool exhausted), so far.</summary>
    public long Timeouts(string poolName)
    {
        lock (_gate)
        {
            (_pool, _used, _idle, _timeouts) = (poolName, 0, 0, 0);
            _listener.RecordObservableInstruments();
            return _timeouts;
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

        if (pool != _pool)
        {
            return;
        }

        if (instrument.Name == "db.client.connection.npgsql.timeouts")
        {
            _timeouts += value;
            return;
        }

        if (state == "used")
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
