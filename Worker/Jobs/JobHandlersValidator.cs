using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>Refuses to start a worker that consumes jobs with no handler for any of them.</summary>
/// <remarks>
/// Such a worker still takes jobs off the shared queue: it fails sent ones as an unknown type and bounces dispatched
/// ones, stealing them from the replicas that can run them. It is nearly always a service that meant only to submit.
/// </remarks>
internal sealed class JobHandlersValidator(IEnumerable<JobHandlerRegistration> registrations) : IValidateOptions<JobHandlerCheck>
{
    public const string Message = "No job handlers: add AddJobHandler<T>(type) or AddBuiltInHandlers(); a service that only submits jobs "
        + "uses AddJobWorkerClient (package JobWorker.Client) instead of AddJobWorker().";

    public ValidateOptionsResult Validate(string? name, JobHandlerCheck options) =>
        options.HandlersRequested || registrations.Any() ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(Message);
}
