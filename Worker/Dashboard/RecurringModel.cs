using JobWorker.Jobs;

namespace JobWorker.Dashboard;

/// <summary>What the Recurring page shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class RecurringModel
{
    internal RecurringModel(List<RecurringView> schedules) => Schedules = schedules;

    internal List<RecurringView> Schedules { get; }
}
