using System.Text.Json;
using JobWorker.Contracts;
using JobWorker.Jobs;
using MassTransit;
using JobWorker.Persistence;

namespace JobWorker.Messaging;

/// <summary>Answers <see cref="GetJobStatus"/> from the job store.</summary>
internal sealed class GetJobStatusConsumer(JobStore store) : IConsumer<GetJobStatus>
{
    public async Task Consume(ConsumeContext<GetJobStatus> context)
    {
        var job = await store.FindAsync(context.Message.JobId, context.CancellationToken);
        var parents = job is { State: JobState.Awaiting } ? await store.ParentsAsync(job.Id, context.CancellationToken) : null;
        await context.RespondAsync(ToStatus(context.Message.JobId, job, parents));
    }

    /// <param name="parents">An Awaiting job's parents with their states; only the unfinished ones are reported.</param>
    internal static JobStatus ToStatus(Guid jobId, Job? job, IReadOnlyList<JobRelative>? parents = null) => job is null
        ? new JobStatus { JobId = jobId, Found = false }
        : new JobStatus
        {
            JobId = job.Id,
            Found = true,
            State = job.State.ToString(),
            JobType = job.Type,
            Attempt = job.Attempt,
            MaxAttempts = job.MaxAttempts,
            Owner = job.Owner,
            Error = job.Error,
            Result = job.Result is null ? null : JsonSerializer.Deserialize<JsonElement>(job.Result),
            CreatedAt = job.CreatedAt,
            RunAt = job.State == JobState.Pending ? job.RunAt : null,
            WaitingFor = job.State == JobState.Awaiting ? [.. (parents ?? []).Where(p => !p.IsFinished).Select(p => p.Id)] : null,
            StartedAt = job.StartedAt,
            FinishedAt = job.FinishedAt,
            UpdatedAt = job.UpdatedAt,
            ProgressCompleted = job.ProgressCompleted,
            ProgressTotal = job.ProgressTotal,
            ProgressPercent = JobProgress.PercentOf(job.ProgressCompleted, job.ProgressTotal),
            ProgressMessage = job.ProgressMessage,
            ProgressUpdatedAt = job.ProgressUpdatedAt,
            Priority = job.Priority,
        };
}
