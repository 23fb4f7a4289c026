using Spectre.Console;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Cli;

/// <summary>How the CLI shows jobs: one job as a field/value table, many as one row each.</summary>
internal static class JobView
{
    /// <param name="parents">The jobs it was submitted to wait for (<c>After</c>), with their states.</param>
    public static void Show(Job job, IReadOnlyList<JobRelative>? parents = null)
    {
        var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        void Row(string field, object? value) => table.AddRow(field, Markup.Escape(value?.ToString() ?? "-"));
        Row("id", job.Id);
        Row("type", job.Type);
        Row("queue", job.Queue);
        Row("state", job.State);
        Row("attempt", $"{job.Attempt} of {job.MaxAttempts}");
        Row("priority", job.Priority);
        Row("concurrency key", job.ConcurrencyKey);
        Row("owner", job.Owner);
        Row("created", job.CreatedAt.ToString("O"));
        Row("due", job.State switch
        {
            JobState.Pending => job.RunAt.ToString("O"),
            JobState.Awaiting => job.AfterAny ? "once every parent job has finished" : "once every parent job has Succeeded",
            _ => null,
        });
        if (parents is { Count: > 0 })
        {
            if (job.State == JobState.Awaiting)
            {
                var waiting = parents.Where(p => !p.IsFinished).Select(p => $"{p.Id} ({p.State?.ToString() ?? "not yet submitted"})");
                Row("waiting for", string.Join(Environment.NewLine, waiting));
            }

            Row("after", $"{parents.Count} parent job(s): {parents.Count(p => p.IsFinished)} finished");
        }

        Row("progress", Describe(job));
        Row("cancel requested", job.CancelReason);
        Row("started", job.StartedAt?.ToString("O"));
        Row("finished", job.FinishedAt?.ToString("O"));
        Row("updated", job.UpdatedAt.ToString("O"));
        Row("error", job.Error);
        Row("result", job.Result);
        Row("payload", Shorten(job.Payload, 200));
        AnsiConsole.Write(table);
    }

    public static void List(IReadOnlyCollection<JobSummary> jobs)
    {
        var table = new Table()
            .AddColumn("id").AddColumn("type").AddColumn("state").AddColumn(new TableColumn("attempt").RightAligned())
            .AddColumn("created (UTC)").AddColumn("due (UTC)").AddColumn("error").AddColumn(new TableColumn("priority").RightAligned()).AddColumn("progress");
        foreach (var job in jobs)
        {
            table.AddRow(
                job.Id.ToString(), Markup.Escape(job.Type), job.State.ToString(), $"{job.Attempt}/{job.MaxAttempts}",
                job.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss"), job.State == JobState.Pending ? job.RunAt.ToString("yyyy-MM-dd HH:mm:ss") : "",
                Markup.Escape(Shorten(job.Error ?? "", 60)), job.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(job.State == JobState.Running && job.Progress is { } progress ? Shorten(progress.Describe(), 40) : ""));
        }

        AnsiConsole.Write(table);
        AnsiConsole.WriteLine($"{jobs.Count} job(s).");
    }

    /// <summary>The job's last progress report and when it was written; null when it made none.</summary>
    private static string? Describe(Job job) => JobProgress.Of(job) is { } progress ? $"{progress.Describe()} (reported {job.ProgressUpdatedAt:O})" : null;

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}
