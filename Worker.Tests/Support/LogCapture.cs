using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace JobWorker.Tests;

/// <summary>Captures what a host logs, with the trace id its scopes carry, for assertions.</summary>
internal sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private IExternalScopeProvider? _scopes;

    public sealed record Entry(string Category, LogLevel Level, string Message, string? TraceId);

    public IReadOnlyCollection<Entry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string? traceId = null;
            capture._scopes?.ForEachScope((scope, _) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        if (key == "TraceId")
                        {
                            traceId = value?.ToString();
                        }
                    }
                }
            }, (object?)null);
            capture._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), traceId));
        }
    }
}
