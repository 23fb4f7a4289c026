using MassTransit;

namespace JobWorker.Messaging;

/// <summary>
/// Marks a SubmitJob a dispatcher sent for a job already in the ledger (scheduled, retried, rescued or released): it names
/// the job and carries no payload, and the consumer claims the job instead of accepting it as a new submission. A
/// publisher that sets the header on a message of its own only asks for an existing job to be claimed.
/// </summary>
internal static class DispatchedJob
{
    public const string Header = "JobWorker-Dispatched";

    public static bool Is(ConsumeContext context) => context.Headers.Get<bool>(Header) == true;
}
