using System.Text;
using System.Text.Json;
using JobWorker.Persistence;

namespace JobWorker.Jobs;

/// <summary>What a handler knows about the job it runs, and how it reports progress and saves a checkpoint.</summary>
/// <param name="JobId">The job's id, chosen by its publisher (the idempotency key).</param>
/// <param name="JobType">The job type the handler was registered for.</param>
/// <param name="Payload">The handler's input, as published (JSON null when there was none).</param>
/// <param name="Attempt">This attempt, from 1.</param>
/// <param name="MaxAttempts">Attempts the job has in all before it is Failed for good.</param>
/// <param name="CorrelationId">The publisher's workflow id, if it gave one.</param>
/// <remarks>
/// Built by the worker, a run writes its progress and checkpoints to the job's row, fenced by this attempt. Built by hand
/// (a handler's unit test), it keeps them in memory only: <see cref="Progress"/> and <see cref="SavedCheckpoint"/> show them.
/// </remarks>
public sealed record JobRun(Guid JobId, string JobType, JsonElement Payload, int Attempt, int MaxAttempts, Guid? CorrelationId)
{
    private JobProgress? _progress;
    private JsonElement? _saved;

    /// <summary>
    /// The checkpoint an earlier attempt saved (<see cref="SaveCheckpointAsync(JsonElement, CancellationToken)"/>) as
    /// this attempt started; null when none did. A retried or recovered job resumes from it.
    /// </summary>
    public JsonElement? Checkpoint { get; init; }

    /// <summary>This attempt's last progress report; null before the first.</summary>
    public JobProgress? Progress => Volatile.Read(ref _progress);

    /// <summary>The checkpoint this attempt saved last; null before the first save.</summary>
    public JsonElement? SavedCheckpoint => _saved;

    /// <summary>Where this attempt's progress and checkpoints go; null for a run built outside the worker.</summary>
    internal JobRunSink? Sink { get; init; }

    /// <summary>
    /// Records how far the handler got. Returns at once: the worker writes the latest report of each job about once a
    /// second (<c>Jobs:ProgressInterval</c>) in one statement for all its jobs, and the last one before the attempt
    /// ends. No connection is held and no error is raised by the write; a report of an attempt that is no longer this
    /// worker's is dropped.
    /// </summary>
    /// <param name="completed">Work done so far (0 or more), in any unit.</param>
    /// <param name="total">The work in all, in the same unit, when known; with it, status shows a percentage.</param>
    /// <param name="message">What the handler is doing, for people (cut to 500 characters).</param>
    public ValueTask ReportProgressAsync(long completed, long? total = null, string? message = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(completed);
        if (total is { } all)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(all, nameof(total));
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (message is { Length: > JobSchema.MaxProgressMessageLength })
        {
            message = message[..JobSchema.MaxProgressMessageLength];
        }

        var progress = new JobProgress(completed, total, StoredText.Clean(message));
        Volatile.Write(ref _progress, progress);
        Sink?.Report(progress);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Saves a small checkpoint (at most 64 KB of compact JSON) on the job's row at once; the job's next attempt reads
    /// it from <see cref="Checkpoint"/>. Throws <see cref="ArgumentException"/> when it is too large, and
    /// <see cref="JobAttemptLostException"/> when this attempt no longer owns the job: the handler should stop.
    /// </summary>
    public async Task SaveCheckpointAsync(JsonElement checkpoint, CancellationToken cancellationToken = default)
    {
        var json = StoredText.CleanJson(JsonSerializer.Serialize(checkpoint))!;
        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > JobSchema.MaxCheckpointBytes)
        {
            throw new ArgumentException(
                $"A checkpoint may hold at most {JobSchema.MaxCheckpointBytes} bytes of compact JSON; this one holds {bytes}. Keep a position or a key in it, not the data.",
                nameof(checkpoint));
        }

        if (Sink is not null)
        {
            await Sink.SaveCheckpointAsync(json, cancellationToken);
        }

        _saved = JsonSerializer.Deserialize<JsonElement>(json);
    }

    /// <summary>Saves <paramref name="checkpoint"/> serialised with System.Text.Json's defaults; see <see cref="SaveCheckpointAsync(JsonElement, CancellationToken)"/>.</summary>
    public Task SaveCheckpointAsync<T>(T checkpoint, CancellationToken cancellationToken = default) =>
        SaveCheckpointAsync(JsonSerializer.SerializeToElement(checkpoint), cancellationToken);

    /// <summary>The checkpoint as <typeparamref name="T"/>; default when there is none.</summary>
    public T? CheckpointAs<T>() => Checkpoint is { } saved ? saved.Deserialize<T>() : default;
}
