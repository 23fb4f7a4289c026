namespace JobWorker.Persistence;

/// <summary>Where a job is in its life. Stored by name, so operators can read the table directly.</summary>
internal enum JobState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,

    /// <summary>A continuation held until its parent jobs finish (<c>job_parents</c>); never claimed or sent before it is Pending.</summary>
    Awaiting,
}

internal static class JobStateExtensions
{
    public static bool IsTerminal(this JobState state) =>
        state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}
