namespace JobWorker.Messaging;

/// <summary>A queue of the deployment exists with another type than <c>RabbitMq:QueueType</c> asks for; the message says what to do.</summary>
internal sealed class QueueTypeConflictException(string message) : Exception(message);
