using Microsoft.Extensions.Options;

namespace JobWorker.Tests;

/// <summary>An options monitor whose value never changes.</summary>
internal sealed class FixedOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
