namespace JobWorker.Jobs;

/// <summary>
/// The result of a guarded write. When the row was not in the expected state the write is skipped and
/// <see cref="Found"/> describes the row as it is (null when it does not exist).
/// </summary>
public readonly record struct TransitionResult(bool Applied, Job? Found)
{
    public static TransitionResult Done => new(true, null);

    public override string ToString() => Applied
        ? "applied"
        : Found is null ? "no such job" : $"found {Found.State} at attempt {Found.Attempt}";
}
