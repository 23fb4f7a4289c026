namespace JobWorker.Jobs;

/// <summary>What the accept transition writes: a validated submission with the worker's defaults applied.</summary>
public sealed record NewJob(Guid Id, string Type, string PayloadJson, int MaxAttempts, TimeSpan? Timeout, Guid? CorrelationId);
