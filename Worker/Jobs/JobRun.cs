using System.Text.Json;

namespace JobWorker.Jobs;

/// <summary>What a handler knows about the job it runs.</summary>
public sealed record JobRun(Guid JobId, string JobType, JsonElement Payload, int Attempt, int MaxAttempts, Guid? CorrelationId);
