using System.Text.Json;

namespace JobWorker.Contracts;

/// <summary>The job finished and its result is stored. Published once per job.</summary>
public sealed record JobSucceeded
{
    public Guid JobId { get; init; }
    public string JobType { get; init; } = "";
    public int Attempt { get; init; }
    /// <summary>The handler's result; null when it returned none.</summary>
    public JsonElement? Result { get; init; }
    public TimeSpan Duration { get; init; }
    public Guid? CorrelationId { get; init; }
}
