namespace JobWorker.Jobs;

/// <summary>
/// What becomes of occurrences that were missed, that is more than <c>Recurring:MisfireThreshold</c> late, because no
/// replica of the queue ran (Quartz's misfire instructions). Occurrences less late than that always fire.
/// </summary>
public enum RecurringCatchUp
{
    /// <summary>Missed occurrences are dropped; the schedule goes on from the next one.</summary>
    None,

    /// <summary>Only the latest missed occurrence fires, once.</summary>
    Latest,

    /// <summary>Every missed occurrence within the schedule's catch-up window fires, oldest first.</summary>
    All,
}
