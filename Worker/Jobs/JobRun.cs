using System.Text.Json;

namespace JobWorker.Jobs;

/// <summary>What a handler knows about the job it runs.</summary>
/// <param name="JobId">The job's id, chosen by its publisher (the idempotency key).</param>
/// <param name="JobType">The job type the handler was registered for.</param>
/// <param name="Payload">The handler's input, as published (JSON null when there was none).</param>
/// <param name="Attempt">This attempt, from 1.</param>
/// <param name="MaxAttempts">Attempts the job has in all before it is Failed for good.</param>
/// <param name="CorrelationId">The publisher's workflow id, if it gave one.</param>
public sealed record JobRun(Guid JobId, string JobType, JsonElement Payload, int Attempt, int MaxAttempts, Guid? CorrelationId);
