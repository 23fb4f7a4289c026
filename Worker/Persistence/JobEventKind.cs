namespace JobWorker.Persistence;

/// <summary>What a job event tells, by kind: the ledger records one per transition that has an event.</summary>
internal enum JobEventKind
{
    Started,
    Succeeded,

    /// <summary>Failed for good.</summary>
    Failed,

    Cancelled,

    /// <summary>An attempt failed and another follows after a backoff; published as JobFailed with WillRetry.</summary>
    Retrying,

    /// <summary>An attempt was given back unused (drain, lost lease, a claim not run): history only, not published.</summary>
    Released,

    /// <summary>An operator's retry of a Failed job: history only, not published; the next attempt publishes JobStarted.</summary>
    Requeued,

    /// <summary>A continuation's parents finished and it became Pending: history only, not published; its run publishes JobStarted.</summary>
    Continued,
}

internal static class JobEventKinds
{
    /// <summary>Whether the broker hears of an event of this kind: a release, an operator's requeue and a continuation's release are history only.</summary>
    public static bool IsPublished(this JobEventKind kind) => kind is not (JobEventKind.Released or JobEventKind.Requeued or JobEventKind.Continued);
}
