using JobWorker.Jobs;

namespace JobWorker.Dashboard;

/// <summary>What the Limits page shows. Public only because Razor components are; built by the dashboard alone.</summary>
public sealed class LimitsModel
{
    internal LimitsModel(List<LimitUsage> usages) => Usages = usages;

    internal List<LimitUsage> Usages { get; }
}
