namespace JobWorker.Jobs;

/// <summary>
/// The fleet-wide limits of one job type (<c>Limits:&lt;type&gt;</c>): how many run at once (<see cref="Concurrency"/>),
/// how many per concurrency key (<see cref="PerKeyConcurrency"/>), how many start per interval (<see cref="Rate"/>).
/// </summary>
internal sealed record LimitRule(string Type, int? Concurrency, int? PerKeyConcurrency, LimitRate? Rate)
{
    /// <summary>
    /// Whether a claim of this type serialises on the type's lock. A type limited only per key locks per key instead, so
    /// claims of different keys never wait for each other.
    /// </summary>
    public bool LocksType => Concurrency is not null || Rate is not null;

    /// <summary>The limit in words, as the CLI and dashboard show it.</summary>
    public string Describe() => string.Join(", ", new[]
    {
        Concurrency is { } c ? $"{c} at once" : null,
        PerKeyConcurrency is { } k ? $"{k} per key" : null,
        Rate is { } r ? $"{r} starts" : null,
    }.Where(p => p is not null));
}
