using System.Globalization;
using System.Text.Json;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;

namespace JobWorker.Dashboard;

/// <summary>What every page needs besides its own data: where the dashboard lives and what this visitor may do.</summary>
internal sealed record PageFrame(
    string BasePath, string CurrentUrl, bool ActionsEnabled, bool SignedIn, string? FormFieldName, string? FormToken, string? Notice, TimeSpan Refresh)
{
    public bool CanAct => ActionsEnabled && SignedIn;

    /// <summary>Where a form on this page sends the operator back to: this page, or for the sign-in page the page it was opened from.</summary>
    public string ReturnTo { get; init; } = CurrentUrl;
}

internal sealed record OverviewModel(
    Dictionary<JobState, long> Counts, List<MinuteCount> Minutes, IReadOnlyList<QueueDepth>? Queues, string? BrokerError,
    List<JobSummary> DueSoon, List<ReplicaView> Replicas, DateTime Now);

internal sealed record JobsModel(JobFilter Filter, JobCursor? Before, List<JobSummary> Jobs, int PageSize, IReadOnlyList<string> Problems);

internal sealed record JobModel(Job Job, List<JobEvent> History, DateTime Now);

/// <summary>
/// The dashboard's pages, server-rendered: semantic HTML with labelled controls, state shown in words (colour only
/// repeats it), the chart as inline SVG with a text summary. The region marked <c>data-live</c> is re-read by
/// dashboard.js every refresh interval; nothing else on the page needs script.
/// </summary>
internal static class DashboardPages
{
    public static string Overview(PageFrame frame, OverviewModel model)
    {
        var html = new Html();
        html.Raw("<h1>Overview</h1><div id=\"live\" data-live>");
        StateCounts(html, frame, model.Counts);
        Chart(html, model.Minutes);
        html.Raw("<div class=\"columns\">");
        Queues(html, model.Queues, model.BrokerError);
        DueSoon(html, frame, model.DueSoon, model.Now);
        html.Raw("</div>");
        Replicas(html, frame, model.Replicas);
        html.Raw("<p class=\"muted small\">Read at ").Time(model.Now).Raw(" UTC (the database's clock).</p></div>");
        return Layout(frame, "Overview", "overview", html.ToString(), live: true);
    }

    public static string Jobs(PageFrame frame, JobsModel model)
    {
        var html = new Html();
        var f = model.Filter;
        html.Raw("<h1>Jobs</h1>");
        foreach (var problem in model.Problems)
        {
            html.Raw("<p class=\"notice error\" role=\"alert\">").Text(problem).Raw("</p>");
        }

        html.Raw($"<form class=\"filters\" method=\"get\" action=\"{Html.Attribute(frame.BasePath)}/jobs\" aria-label=\"Filter jobs\">");
        html.Raw("<div><label for=\"f-state\">State</label><select id=\"f-state\" name=\"state\"><option value=\"\">Any</option>");
        foreach (var state in Enum.GetValues<JobState>())
        {
            html.Raw("<option").Raw(f.State == state ? " selected" : "").Raw(">").Text(state.ToString()).Raw("</option>");
        }

        html.Raw("</select></div>");
        Input(html, "f-type", "type", "Type", f.Type, "text");
        Input(html, "f-error", "error", "Error contains", f.ErrorContains, "search");
        Input(html, "f-from", "from", "Created from (UTC)", f.CreatedFrom?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture), "datetime-local");
        Input(html, "f-to", "to", "Created before (UTC)", f.CreatedTo?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture), "datetime-local");
        if (!string.IsNullOrEmpty(f.Owner))
        {
            Input(html, "f-owner", "owner", "Owner", f.Owner, "text");
        }

        html.Raw($"<div class=\"buttons\"><button type=\"submit\">Filter</button> <a href=\"{Html.Attribute(frame.BasePath)}/jobs\">Clear</a></div></form>");

        if (frame.CanAct && (f.State is null || (f.State == JobState.Failed && model.Jobs.Count > 0)))
        {
            html.Raw($"<form method=\"post\" action=\"{Html.Attribute(frame.BasePath)}/jobs/retry-failed\" class=\"bulk\">");
            FormToken(html, frame);
            Hidden(html, "type", f.Type);
            Hidden(html, "error", f.ErrorContains);
            Hidden(html, "owner", f.Owner);
            Hidden(html, "from", f.CreatedFrom?.ToString("O", CultureInfo.InvariantCulture));
            Hidden(html, "to", f.CreatedTo?.ToString("O", CultureInfo.InvariantCulture));
            html.Raw("<button type=\"submit\" class=\"danger\">Retry all failed jobs matching this filter</button></form>");
        }

        if (model.Jobs.Count == 0)
        {
            html.Raw("<p class=\"empty\">No jobs match.</p>");
        }
        else
        {
            html.Raw("<table id=\"jobs\"><caption class=\"visually-hidden\">Jobs, newest first</caption><thead><tr>")
                .Raw("<th scope=\"col\">Created (UTC)</th><th scope=\"col\">Job</th><th scope=\"col\">Type</th><th scope=\"col\">State</th>")
                .Raw("<th scope=\"col\">Attempt</th><th scope=\"col\">Owner</th><th scope=\"col\">Error</th></tr></thead><tbody>");
            foreach (var job in model.Jobs)
            {
                html.Raw("<tr><td>").Time(job.CreatedAt).Raw("</td><td>");
                JobLink(html, frame, job.Id);
                html.Raw("</td><td>").Text(job.Type).Raw("</td><td>").State(job.State).Raw("</td><td>")
                    .Text($"{job.Attempt} of {job.MaxAttempts}").Raw("</td><td class=\"owner\">").Text(job.Owner).Raw("</td><td class=\"error-preview\">")
                    .Text(job.Error).Raw("</td></tr>");
            }

            html.Raw("</tbody></table>");
        }

        html.Raw("<nav class=\"pages\" aria-label=\"Pages\">");
        if (model.Before is not null)
        {
            html.Raw($"<a href=\"{Html.Attribute(JobsUrl(frame.BasePath, f, null))}\">Newest</a> ");
        }

        if (model.Jobs.Count == model.PageSize)
        {
            html.Raw($"<a rel=\"next\" href=\"{Html.Attribute(JobsUrl(frame.BasePath, f, model.Jobs[^1].Cursor))}\">Older jobs →</a>");
        }

        html.Raw("</nav>");
        return Layout(frame, "Jobs", "jobs", html.ToString(), live: false);
    }

    public static string Job(PageFrame frame, JobModel model)
    {
        var job = model.Job;
        var html = new Html();
        html.Raw("<h1>Job <code>").Text(job.Id.ToString()).Raw("</code></h1>");
        html.Raw($"<div id=\"live\" {(job.State.IsTerminal() ? "" : "data-live")}>");
        html.Raw("<div class=\"job-head\"><p class=\"big\">").State(job.State).Raw(" <span>").Text(job.Type).Raw("</span></p>");
        if (frame.CanAct)
        {
            if (job.State == JobState.Failed)
            {
                ActionButton(html, frame, $"{frame.BasePath}/jobs/{job.Id}/retry", "Retry this job", "primary");
            }

            if (job.State is JobState.Pending or JobState.Running)
            {
                ActionButton(html, frame, $"{frame.BasePath}/jobs/{job.Id}/cancel", "Cancel this job", "danger");
            }
        }

        html.Raw("</div><dl class=\"facts\">");
        Fact(html, "Queue", job.Queue);
        Fact(html, "Attempt", $"{job.Attempt} of {job.MaxAttempts}");
        Fact(html, "Owner", job.Owner);
        html.Raw("<dt>Created</dt><dd>").Time(job.CreatedAt).Raw("</dd>");
        html.Raw("<dt>Due</dt><dd>").Time(job.RunAt).Raw(job.State == JobState.Pending && job.RunAt > model.Now ? $" (in {Html.Duration(job.RunAt - model.Now)})" : "").Raw("</dd>");
        html.Raw("<dt>Started</dt><dd>").Time(job.StartedAt).Raw("</dd>");
        html.Raw("<dt>Finished</dt><dd>").Time(job.FinishedAt).Raw("</dd>");
        if (job.State == JobState.Running)
        {
            html.Raw("<dt>Lease expires</dt><dd>").Time(job.LeaseExpiresAt).Raw("</dd>");
        }

        Fact(html, "Timeout", job.Timeout is { } t ? Html.Duration(t) : "worker default");
        Fact(html, "Cancel requested", job.CancelReason);
        Fact(html, "Correlation id", job.CorrelationId?.ToString());
        html.Raw("</dl>");

        if (job.Error is not null)
        {
            html.Raw("<h2>Error</h2><pre class=\"error\" id=\"job-error\">").Text(job.Error).Raw("</pre>");
        }

        html.Raw("<h2>Attempts</h2>");
        Attempts(html, model.History);
        html.Raw("<h2>Payload</h2><pre id=\"job-payload\">").Text(Pretty(job.Payload)).Raw("</pre>");
        if (job.Result is not null)
        {
            html.Raw("<h2>Result</h2><pre id=\"job-result\">").Text(Pretty(job.Result)).Raw("</pre>");
        }

        html.Raw("<h2>Events</h2>");
        Events(html, model.History);
        html.Raw("</div>");
        return Layout(frame, $"Job {job.Id}", "jobs", html.ToString(), live: !job.State.IsTerminal());
    }

    public static string SignIn(PageFrame frame, string? problem)
    {
        var html = new Html();
        html.Raw("<h1>Sign in to act</h1>");
        if (!frame.ActionsEnabled)
        {
            html.Raw("<p>Actions are turned off (<code>Dashboard:ActionsEnabled</code>): this dashboard is read-only.</p>");
            return Layout(frame, "Sign in", "", html.ToString(), live: false);
        }

        if (problem is not null)
        {
            html.Raw("<p class=\"notice error\" role=\"alert\">").Text(problem).Raw("</p>");
        }

        html.Raw("<p>Retrying and cancelling jobs needs the dashboard token (<code>Dashboard:Token</code>) from your secret store.</p>");
        html.Raw($"<form method=\"post\" action=\"{Html.Attribute(frame.BasePath)}/login\" class=\"signin\">");
        FormToken(html, frame);
        html.Raw("<div><label for=\"token\">Dashboard token</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required></div>");
        html.Raw("<div class=\"buttons\"><button type=\"submit\" class=\"primary\">Sign in</button></div></form>");
        return Layout(frame, "Sign in", "", html.ToString(), live: false);
    }

    public static string Message(PageFrame frame, string title, string message)
    {
        var html = new Html();
        html.Raw("<h1>").Text(title).Raw("</h1><p class=\"notice error\" role=\"alert\">").Text(message).Raw("</p>");
        return Layout(frame, title, "", html.ToString(), live: false);
    }

    /// <summary>The jobs list for <paramref name="filter"/>, older than <paramref name="before"/> when given.</summary>
    public static string JobsUrl(string basePath, JobFilter filter, JobCursor? before)
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }

        Add("state", filter.State?.ToString());
        Add("type", filter.Type);
        Add("error", filter.ErrorContains);
        Add("owner", filter.Owner);
        Add("from", filter.CreatedFrom?.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        Add("to", filter.CreatedTo?.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        Add("before", before?.ToString());
        return query.Count == 0 ? $"{basePath}/jobs" : $"{basePath}/jobs?{string.Join('&', query)}";
    }

    private static void StateCounts(Html html, PageFrame frame, Dictionary<JobState, long> counts)
    {
        html.Raw("<section aria-labelledby=\"h-states\"><h2 id=\"h-states\">Jobs by state</h2><ul class=\"counts\">");
        foreach (var (state, count) in counts)
        {
            html.Raw($"<li><a class=\"count count-{state.ToString().ToLowerInvariant()}\" href=\"{Html.Attribute(JobsUrl(frame.BasePath, new JobFilter { State = state }, null))}\">")
                .Raw($"<span class=\"label\">{state}{(state == JobState.Succeeded ? $", last {DashboardEndpoints.SucceededWindow.TotalHours:0} h" : "")}</span>")
                .Raw($"<span class=\"value\" id=\"count-{state}\">").Number(count).Raw("</span></a></li>");
        }

        html.Raw("</ul></section>");
    }

    private static void Chart(Html html, List<MinuteCount> minutes)
    {
        const int width = 720, height = 160, left = 40, bottom = 20, top = 8;
        var peak = Math.Max(1, minutes.Count == 0 ? 1 : minutes.Max(m => m.Succeeded + m.Failed));
        var scale = NiceCeiling(peak);
        var barWidth = minutes.Count == 0 ? 0 : (double)(width - left) / minutes.Count;
        var succeeded = minutes.Sum(m => m.Succeeded);
        var failed = minutes.Sum(m => m.Failed);
        var summary = $"In the last hour {succeeded:N0} jobs succeeded and {failed:N0} failed; the busiest minute finished {peak:N0}.";

        html.Raw("<section aria-labelledby=\"h-chart\"><h2 id=\"h-chart\">Finished per minute, last hour</h2><figure>");
        html.Raw($"<svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-summary\" class=\"chart\">");
        for (var i = 0; i <= 2; i++)
        {
            var y = top + (height - bottom - top) * (1 - i / 2.0);
            html.Raw(FormattableString.Invariant($"<line x1=\"{left}\" x2=\"{width}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" class=\"grid\"/>"))
                .Raw(FormattableString.Invariant($"<text x=\"{left - 4}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" class=\"axis\">{scale * i / 2:N0}</text>"));
        }

        for (var i = 0; i < minutes.Count; i++)
        {
            var m = minutes[i];
            var x = left + i * barWidth;
            var plot = height - bottom - top;
            var hs = plot * m.Succeeded / (double)scale;
            var hf = plot * m.Failed / (double)scale;
            var baseY = height - bottom;
            html.Raw("<g><title>").Text($"{m.Minute:HH:mm} UTC: {m.Succeeded:N0} succeeded, {m.Failed:N0} failed").Raw("</title>");
            html.Raw(FormattableString.Invariant($"<rect x=\"{x + 1:0.#}\" y=\"{baseY - hs:0.#}\" width=\"{Math.Max(1, barWidth - 2):0.#}\" height=\"{hs:0.#}\" class=\"bar-succeeded\"/>"));
            html.Raw(FormattableString.Invariant($"<rect x=\"{x + 1:0.#}\" y=\"{baseY - hs - hf:0.#}\" width=\"{Math.Max(1, barWidth - 2):0.#}\" height=\"{hf:0.#}\" class=\"bar-failed\"/></g>"));
            if (i % 15 == 0 || i == minutes.Count - 1)
            {
                var anchor = i == minutes.Count - 1 ? "end" : "middle";
                var labelX = i == minutes.Count - 1 ? x + barWidth : x + barWidth / 2;
                html.Raw(FormattableString.Invariant($"<text x=\"{labelX:0.#}\" y=\"{height - 4}\" text-anchor=\"{anchor}\" class=\"axis\">{m.Minute:HH:mm}</text>"));
            }
        }

        html.Raw("</svg><figcaption id=\"chart-summary\">").Text(summary)
            .Raw(" <span class=\"key key-succeeded\">Succeeded</span> <span class=\"key key-failed\">Failed</span></figcaption></figure></section>");
    }

    private static void Queues(Html html, IReadOnlyList<QueueDepth>? queues, string? brokerError)
    {
        html.Raw("<section aria-labelledby=\"h-queues\"><h2 id=\"h-queues\">Queues</h2>");
        if (queues is null)
        {
            html.Raw("<p class=\"notice error\" role=\"status\">Broker unavailable: ").Text(brokerError).Raw("</p></section>");
            return;
        }

        html.Raw("<table id=\"queues\"><thead><tr><th scope=\"col\">Queue</th><th scope=\"col\" class=\"num\">Messages</th><th scope=\"col\" class=\"num\">Consumers</th></tr></thead><tbody>");
        foreach (var queue in queues)
        {
            html.Raw("<tr><td>").Text(queue.Queue).Raw("</td>");
            if (queue.Exists)
            {
                html.Raw("<td class=\"num\">").Number(queue.Messages).Raw("</td><td class=\"num\">").Number(queue.Consumers).Raw("</td></tr>");
            }
            else
            {
                html.Raw("<td colspan=\"2\" class=\"muted\">not declared yet</td></tr>");
            }
        }

        html.Raw("</tbody></table></section>");
    }

    private static void DueSoon(Html html, PageFrame frame, List<JobSummary> due, DateTime now)
    {
        html.Raw("<section aria-labelledby=\"h-due\"><h2 id=\"h-due\">Scheduled, due soonest</h2>");
        if (due.Count == 0)
        {
            html.Raw("<p class=\"empty\">No scheduled jobs.</p></section>");
            return;
        }

        html.Raw("<table id=\"due\"><thead><tr><th scope=\"col\">Job</th><th scope=\"col\">Type</th><th scope=\"col\">Due (UTC)</th><th scope=\"col\">In</th></tr></thead><tbody>");
        foreach (var job in due)
        {
            html.Raw("<tr><td>");
            JobLink(html, frame, job.Id);
            html.Raw("</td><td>").Text(job.Type).Raw("</td><td>").Time(job.RunAt).Raw("</td><td class=\"nowrap\">").Text(Html.Duration(job.RunAt - now)).Raw("</td></tr>");
        }

        html.Raw("</tbody></table></section>");
    }

    private static void Replicas(Html html, PageFrame frame, List<ReplicaView> replicas)
    {
        html.Raw("<section aria-labelledby=\"h-replicas\"><h2 id=\"h-replicas\">Replicas seen in the last hour</h2>");
        if (replicas.Count == 0)
        {
            html.Raw("<p class=\"empty\">No replica has reported in the last hour.</p></section>");
            return;
        }

        html.Raw("<table id=\"replicas\"><thead><tr><th scope=\"col\">Replica</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Jobs in flight</th>")
            .Raw("<th scope=\"col\" class=\"num\">Slots in use</th><th scope=\"col\">Last activity</th><th scope=\"col\">Last heartbeat</th><th scope=\"col\">Up since (UTC)</th></tr></thead><tbody>");
        foreach (var r in replicas)
        {
            var status = r.StoppedAt is not null ? "stopped"
                : r.Now - r.LastSeenAt > ReplicaHeartbeat.BeatInterval * 3 ? "gone quiet"
                : "alive";
            var inFlight = JobsUrl(frame.BasePath, new JobFilter { State = JobState.Running, Owner = r.Id }, null);
            html.Raw("<tr><td class=\"owner\">").Text(r.Id).Raw($"</td><td><span class=\"replica replica-{status.Replace(' ', '-')}\">").Text(status).Raw("</span></td>")
                .Raw($"<td class=\"num\"><a href=\"{Html.Attribute(inFlight)}\">").Number(r.Running).Raw("</a></td>")
                .Raw("<td class=\"num\">").Text($"{r.Busy} of {r.Slots}").Raw("</td><td>")
                .Text(r.LastProgressAt is { } progress ? $"{Html.Duration(r.Now - progress)} ago" : "none yet").Raw("</td><td>")
                .Text($"{Html.Duration(r.Now - r.LastSeenAt)} ago").Raw("</td><td>").Time(r.StartedAt).Raw("</td></tr>");
        }

        html.Raw("</tbody></table></section>");
    }

    private static void Attempts(Html html, List<JobEvent> history)
    {
        var attempts = history.Where(e => e.Attempt > 0).GroupBy(e => e.Attempt).OrderBy(g => g.Key).ToList();
        if (attempts.Count == 0)
        {
            html.Raw("<p class=\"empty\">No attempt has started.</p>");
            return;
        }

        html.Raw("<table id=\"attempts\"><thead><tr><th scope=\"col\">Attempt</th><th scope=\"col\">Worker</th><th scope=\"col\">Started (UTC)</th>")
            .Raw("<th scope=\"col\">Ended (UTC)</th><th scope=\"col\">Took</th><th scope=\"col\">Outcome</th></tr></thead><tbody>");
        foreach (var attempt in attempts)
        {
            var started = attempt.FirstOrDefault(e => e.Kind == JobEventKind.Started);
            var ended = attempt.FirstOrDefault(e => e.Kind != JobEventKind.Started);
            var outcome = ended switch
            {
                null => "running (or no outcome recorded)",
                { Kind: JobEventKind.Failed, WillRetry: true } => $"failed, retried: {ended.Error}",
                { Kind: JobEventKind.Failed } => $"failed: {ended.Error}",
                { Kind: JobEventKind.Cancelled } => $"cancelled: {ended.Error}",
                _ => "succeeded",
            };
            html.Raw("<tr><td>").Number(attempt.Key).Raw("</td><td class=\"owner\">").Text(started?.WorkerId).Raw("</td><td>").Time(started?.OccurredAt)
                .Raw("</td><td>").Time(ended?.OccurredAt).Raw("</td><td>")
                .Text(started is not null && ended is not null ? Html.Duration(ended.OccurredAt - started.OccurredAt) : "")
                .Raw("</td><td>").Text(outcome).Raw("</td></tr>");
        }

        html.Raw("</tbody></table>");
    }

    private static void Events(Html html, List<JobEvent> history)
    {
        if (history.Count == 0)
        {
            html.Raw("<p class=\"empty\">No events recorded.</p>");
            return;
        }

        html.Raw("<table id=\"events\"><thead><tr><th scope=\"col\">Event</th><th scope=\"col\">Attempt</th><th scope=\"col\">Occurred (UTC)</th><th scope=\"col\">Published (UTC)</th></tr></thead><tbody>");
        foreach (var e in history)
        {
            html.Raw("<tr><td>").Text($"Job{e.Kind}").Raw("</td><td>").Number(e.Attempt).Raw("</td><td>").Time(e.OccurredAt).Raw("</td><td>");
            if (e.PublishedAt is null)
            {
                html.Raw("<span class=\"muted\">in the outbox</span>");
            }
            else
            {
                html.Time(e.PublishedAt);
            }

            html.Raw("</td></tr>");
        }

        html.Raw("</tbody></table>");
    }

    private static string Layout(PageFrame frame, string title, string section, string body, bool live)
    {
        var b = Html.Attribute(frame.BasePath);
        var html = new Html();
        html.Raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Raw("<title>").Text(title).Raw(" · JobWorker</title>")
            .Raw($"<link rel=\"stylesheet\" href=\"{b}/assets/dashboard.css\"></head><body>")
            .Raw("<a class=\"skip\" href=\"#main\">Skip to content</a><header><span class=\"brand\">JobWorker</span>")
            .Raw("<nav aria-label=\"Dashboard\">")
            .Raw($"<a href=\"{b}/\"{(section == "overview" ? " aria-current=\"page\"" : "")}>Overview</a>")
            .Raw($"<a href=\"{b}/jobs\"{(section == "jobs" ? " aria-current=\"page\"" : "")}>Jobs</a></nav><div class=\"session\">");
        if (!frame.ActionsEnabled)
        {
            html.Raw("<span class=\"muted\">Read-only</span>");
        }
        else if (frame.SignedIn)
        {
            html.Raw($"<form method=\"post\" action=\"{b}/logout\">");
            FormToken(html, frame);
            html.Raw("<button type=\"submit\" class=\"link\">Sign out</button></form>");
        }
        else
        {
            html.Raw($"<a href=\"{b}/login?returnTo={Html.Attribute(Uri.EscapeDataString(frame.CurrentUrl))}\">Sign in to act</a>");
        }

        html.Raw("</div></header><main id=\"main\"");
        if (live)
        {
            html.Raw($" data-refresh-ms=\"{(int)frame.Refresh.TotalMilliseconds}\"");
        }

        html.Raw(">");
        if (frame.Notice is not null)
        {
            html.Raw("<p class=\"notice\" role=\"status\" id=\"notice\">").Text(frame.Notice).Raw("</p>");
        }

        html.Raw(body);
        if (live)
        {
            html.Raw("<p class=\"muted small\" id=\"refresh-status\" role=\"status\" aria-live=\"polite\"></p>");
        }

        html.Raw($"</main><script src=\"{b}/assets/dashboard.js\"></script></body></html>");
        return html.ToString();
    }

    /// <summary>The whole id: MassTransit's sequential ids share their leading digits, so no prefix tells jobs apart.</summary>
    private static void JobLink(Html html, PageFrame frame, Guid id) =>
        html.Raw($"<a class=\"job-id\" href=\"{Html.Attribute(frame.BasePath)}/jobs/{id}\">").Text(id.ToString()).Raw("</a>");

    private static void ActionButton(Html html, PageFrame frame, string action, string label, string kind)
    {
        html.Raw($"<form method=\"post\" action=\"{Html.Attribute(action)}\" class=\"inline\">");
        FormToken(html, frame);
        html.Raw($"<button type=\"submit\" class=\"{kind}\">").Text(label).Raw("</button></form>");
    }

    private static void FormToken(Html html, PageFrame frame)
    {
        if (frame.FormFieldName is not null)
        {
            Hidden(html, frame.FormFieldName, frame.FormToken);
        }

        Hidden(html, "returnTo", frame.ReturnTo);
    }

    private static void Hidden(Html html, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            html.Raw($"<input type=\"hidden\" name=\"{Html.Attribute(name)}\" value=\"{Html.Attribute(value)}\">");
        }
    }

    private static void Input(Html html, string id, string name, string label, string? value, string type) =>
        html.Raw($"<div><label for=\"{id}\">{label}</label><input id=\"{id}\" name=\"{name}\" type=\"{type}\" value=\"{Html.Attribute(value)}\"></div>");

    private static void Fact(Html html, string name, string? value) =>
        html.Raw("<dt>").Text(name).Raw("</dt><dd>").Text(string.IsNullOrEmpty(value) ? "–" : value).Raw("</dd>");

    private static string Pretty(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    // The text is HTML-encoded where it is written, so JSON's own escaping of non-ASCII would only hurt reading.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static long NiceCeiling(long value)
    {
        var magnitude = (long)Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }
}
