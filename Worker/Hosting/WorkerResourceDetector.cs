using OpenTelemetry.Resources;

namespace JobWorker.Hosting;

/// <summary>
/// The resource every signal of a worker carries by default: service <c>jobworker</c>, instance the worker's id. It is
/// added before the standard variables are read again, so <c>OTEL_SERVICE_NAME</c> and <c>OTEL_RESOURCE_ATTRIBUTES</c>
/// override it.
/// </summary>
internal sealed class WorkerResourceDetector(string? workerId) : IResourceDetector
{
    public const string ServiceName = "jobworker";

    public Resource Detect() => ResourceBuilder.CreateEmpty()
        .AddService(ServiceName, serviceInstanceId: workerId, autoGenerateServiceInstanceId: workerId is null)
        .Build();
}
