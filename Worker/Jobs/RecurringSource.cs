namespace JobWorker.Jobs;

/// <summary>Where a recurring schedule is defined, which decides who may change or remove it.</summary>
internal enum RecurringSource
{
    /// <summary><c>Recurring:&lt;key&gt;</c> in configuration; upserted at start, disabled when removed.</summary>
    Configuration,

    /// <summary><c>AddRecurringJob</c> on the worker's builder; upserted at start, disabled when removed.</summary>
    Code,

    /// <summary>Added by an operator (<c>jobworker recurring add</c>); left alone by start-up.</summary>
    Runtime,
}
