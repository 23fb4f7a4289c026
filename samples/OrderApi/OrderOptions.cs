using System.ComponentModel.DataAnnotations;

namespace OrderApi;

/// <summary>Section <c>Orders</c>.</summary>
public sealed class OrderOptions
{
    public const string Section = "Orders";

    /// <summary>The job type a worker of the deployment runs for each new order.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Orders:ConfirmationJobType is required.")]
    public string ConfirmationJobType { get; set; } = "order-confirmation";

    /// <summary>The longest <c>POST /orders?wait=true</c> waits for the confirmation job to finish.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Orders:WaitTimeout must be between 1 s and 5 min.")]
    public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
