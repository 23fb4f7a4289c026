namespace JobWorker.Jobs;

/// <summary>Records that a job type has a handler, so the worker can list and check its job types.</summary>
internal sealed record JobHandlerRegistration(string JobType);
