using System.ComponentModel.DataAnnotations;

namespace ReportHost;

/// <summary>Where reports are written, and how long one day of sales takes to add up. Section <c>Reports</c>.</summary>
public sealed class ReportOptions
{
    public const string Section = "Reports";

    [Required(ErrorMessage = "Reports:OutputDirectory is required.")]
    public string OutputDirectory { get; set; } = "reports";

    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Reports:TimePerDay must be between 0 and 1 minute.")]
    public TimeSpan TimePerDay { get; set; } = TimeSpan.FromMilliseconds(100);
}
