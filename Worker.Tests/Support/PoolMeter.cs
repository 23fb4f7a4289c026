using System.Diagnostics.Metrics;

namespace JobWorker.Tests;

/// <summary>Reads Npgsql's pool meter for the one pool whose name contains a marker (its Application Name).</summary>
internal sealed class PoolMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _marker;
    private readonly Dictionary<string, long> _latest = [];

    public PoolMeter(string marker)
    {
        _marker = marker;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name.StartsWith("db.client.connection", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        _listener.Start();
    }

    /// <summary>Connections of the pool in use right now (Npgsql's <c>db.client.connection.count</c>, state <c>used</c>).</summary>
    public long Busy() => Observe("db.client.connection.count/used");

    /// <summary>The pool's Maximum Pool Size as the meter reports it; proves the meter is reading the intended pool.</summary>
    public long Max() => Observe("db.client.connection.max");

    public long Timeouts() => Observe("db.client.connection.npgsql.timeouts");

    private long Observe(string key)
    {
        lock (_latest)
        {
            _latest.Clear();
        }

        _listener.RecordObservableInstruments();
        lock (_latest)
        {
            return _latest.GetValueOrDefault(key);
        }
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? pool = null, state = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "db.client.connection.pool.name")
            {
                pool = tag.Value?.ToString();
            }
            else if (tag.Key == "db.client.connection.state")
            {
                state = tag.Value?.ToString();
            }
        }

        if (pool is null || !pool.Contains(_marker, StringComparison.Ordinal))
        {
            return;
        }

        lock (_latest)
        {
            var key = state is null ? instrument.Name : $"{instrument.Name}/{state}";
            _latest[key] = _latest.GetValueOrDefault(key) + value;
        }
    }

    public void Dispose() => _listener.Dispose();
}
