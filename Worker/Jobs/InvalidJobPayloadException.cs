namespace JobWorker.Jobs;

/// <summary>Thrown by a handler whose payload can never succeed. The job fails at once, without retries.</summary>
/// <param name="message">What is wrong with the payload; stored as the job's error, so name the field and the rule.</param>
public sealed class InvalidJobPayloadException(string message) : Exception(message);
