namespace JobWorker.Jobs;

/// <summary>Thrown by a handler whose payload can never succeed. The job fails at once, without retries.</summary>
public sealed class InvalidJobPayloadException(string message) : Exception(message);
