namespace JobWorker.Jobs;

/// <summary>
/// Where a running attempt's progress and checkpoints go: progress into its slot, for <see cref="ProgressWriter"/> to
/// write with the others', a checkpoint straight to the row, fenced by the attempt.
/// </summary>
/// <param name="bound">How long a checkpoint write may take, through retries, before the handler gets the error.</param>
internal sealed class JobRunSink(RunningJob running, JobStore store, TimeSpan bound)
{
    public void Report(JobProgress progress) => running.ReportProgress(progress);

    public async Task SaveCheckpointAsync(string json, CancellationToken cancellationToken)
    {
        var claimed = running.Claimed;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(bound);
        if (!await store.SaveCheckpointAsync(claimed.Id, claimed.Attempt, claimed.Owner!, json, limit.Token))
        {
            throw new JobAttemptLostException(claimed.Id, claimed.Attempt);
        }
    }
}
