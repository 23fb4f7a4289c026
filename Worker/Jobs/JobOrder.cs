namespace JobWorker.Jobs;

/// <summary>How a jobs list is ordered.</summary>
internal enum JobOrder
{
    /// <summary>Newest first (created_at, then id), every state.</summary>
    Newest,

    /// <summary>Due soonest first (run_at, then id): Pending jobs only, the only ones with a due time (scheduled, retrying, waiting to run).</summary>
    DueSoonest,
}
