namespace JobWorker.Jobs;

/// <summary>
/// A row the client's transactional enqueue wrote that no worker has checked yet, as the dispatcher's accept step reads
/// it: <see cref="Job"/> is what the accept checks are applied to; <see cref="Unreadable"/> says why it could not be built
/// (a value written by hand that the worker cannot read), and is then the reason the job fails.
/// </summary>
internal sealed record UncheckedJob(Guid Id, string Type, string State, int Attempt, DateTime CreatedAt, NewJob? Job, string? Unreadable);
