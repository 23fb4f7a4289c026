namespace JobWorker.Jobs;

/// <summary>
/// Carries no settings: validated at start (<see cref="JobHandlersValidator"/>) in a worker that consumes jobs, so the
/// check runs with the other settings' validation and stops the start the same way, with nothing else resolving it earlier.
/// </summary>
internal sealed class JobHandlerCheck;
