namespace JobWorker.Jobs;

/// <summary>
/// Validated at start (<see cref="JobHandlersValidator"/>) in a worker that consumes jobs, so the check runs with the
/// other settings' validation and stops the start the same way, with nothing else resolving it earlier.
/// </summary>
internal sealed class JobHandlerCheck
{
    /// <summary>
    /// Handlers were asked for but their settings could not be read (an invalid <c>Handlers</c> switch): that error is
    /// the one to report, not "no job handlers".
    /// </summary>
    public bool HandlersRequested { get; set; }
}
