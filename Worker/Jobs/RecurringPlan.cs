namespace JobWorker.Jobs;

/// <summary>
/// What one claim of a due schedule does, decided in code (<see cref="RecurringPlanner"/>) and applied by one statement:
/// move <c>next_run_at</c> from <see cref="Expected"/> (the compare-and-set) and insert the jobs <see cref="Fire"/> names.
/// With <see cref="SkipWhileBusy"/> the statement checks the previous occurrence's job: while it is Pending or Running
/// nothing is inserted and the schedule moves to <see cref="NextIfSkipped"/> instead, passing over <see cref="Skipped"/>
/// occurrences (the last <see cref="LastIfSkipped"/>); none when it waits there for a catch-up (<see cref="LastIfSkipped"/> null).
/// </summary>
internal sealed record RecurringPlan(
    string Key, DateTime Expected, IReadOnlyList<DateTime> Fire, DateTime? NextIfFired, DateTime? NextIfSkipped,
    DateTime? LastIfSkipped, int Skipped, bool SkipWhileBusy, int Dropped)
{
    public Guid[] JobIds => [.. Fire.Select(o => RecurringJobId.For(Key, o))];
}
