using System.Diagnostics.Metrics;

namespace JobWorker.Telemetry;

/// <summary>Reads Npgsql's own pool meter (<c>db.client.connection.count</c>) for one pool, on demand.</summary>
public sealed class NpgsqlPoolUsage : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private string _pool = "";
    private long _used;
    private long _idle;

    public NpgsqlPoolUsage()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == "db.client.connection.count")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) => Record(value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Record(value, tags));
        _listener.Start();
    }

    /// <summary>Connections of <paramref name="poolName"/> in use and idle right now.</summary>
    public (long Used, long Idle) Read(string poolName)
    {
        lock (_gate)
        {
            (_pool, _used, _idle) = (poolName, 0, 0);
            _listener.RecordObservableInstruments();
            return (_used, _idle);
        }
    }

    private void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
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
