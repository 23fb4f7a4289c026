namespace JobWorker.Messaging;

/// <summary>
/// A SubmitJob that can never run. Thrown from the consumer so MassTransit logs it and moves the message,
/// with this reason in its headers, to the queue's <c>_error</c> queue. The worker keeps consuming.
/// </summary>
internal sealed class RejectedJobException(string reason) : Exception(reason);
