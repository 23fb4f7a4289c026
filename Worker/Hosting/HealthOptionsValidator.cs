using JobWorker.Dashboard;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>Refuses a <c>Health:Port</c> the dashboard also claims.</summary>
/// <remarks>
/// The health listener is on all interfaces; on a shared port it would serve the dashboard there too, past
/// <c>Dashboard:Address</c>, so the two cannot share one.
/// </remarks>
internal sealed class HealthOptionsValidator(IOptions<DashboardOptions> dashboard) : IValidateOptions<HealthOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthOptions options)
    {
        var board = dashboard.Value;
        return board.Enabled && options.Port != 0 && board.Port == options.Port
            ? ValidateOptionsResult.Fail(
                $"Dashboard:Port and Health:Port are both {options.Port}: the health listener is on all interfaces and would serve the "
                + "dashboard there too; give the dashboard a port of its own.")
            : ValidateOptionsResult.Success;
    }
}
