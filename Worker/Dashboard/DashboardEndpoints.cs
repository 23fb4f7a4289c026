using System.Globalization;
using System.Reflection;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace JobWorker.Dashboard;

/// <summary>
/// The dashboard's routes, kept thin: each reads through <see cref="JobQueries"/> or acts through
/// <see cref="JobControl"/>, and renders with <see cref="DashboardPages"/>. Every POST is checked by
/// <see cref="DashboardAccess"/> (actions on, signed in, antiforgery) and answers with a redirect back to the page,
/// which shows the outcome.
/// </summary>
internal static class DashboardEndpoints
{
    private const string NoticeCookie = "jobworker-dashboard-notice";
    private static readonly TimeSpan ReplicasSeenWithin = TimeSpan.FromHours(1);
    private static readonly TimeSpan ChartWindow = TimeSpan.FromMinutes(59);

    /// <summary>Succeeded is counted over this window: the one state that grows without end.</summary>
    public static readonly TimeSpan SucceededWindow = TimeSpan.FromHours(24);

    public static void Map(IEndpointRouteBuilder endpoints, DashboardOptions options)
    {
        var group = endpoints.MapGroup(options.Path).ExcludeFromDescription();
        if (options.Port != 0)
        {
            // Only on the dashboard's own listener, not on the health port the kubelet reaches.
            group.RequireHost($"*:{options.Port}");
        }

        group.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            var headers = context.Response.Headers;

            // Nothing is fetched from elsewhere, no page may be framed, and no form may post elsewhere.
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            if (!context.Request.Path.StartsWithSegments($"{options.Path}/assets"))
            {
                headers.CacheControl = "no-store";
            }

            var refusal = context.RequestServices.GetRequiredService<DashboardAccess>().RefuseViewing(context);
            if (refusal is not null)
            {
                return Results.Text(refusal, statusCode: StatusCodes.Status403Forbidden);
            }

            try
            {
                return await next(invocation);
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested
                && (ExceptionChain.Find<NpgsqlException>(e) is not null || e is OperationCanceledException or TimeoutException))
            {
                // The database is away or slow: say so, and let the live refresh try again.
                return Page(DashboardPages.Message(Frame(context), "Database unavailable",
                    $"The job database did not answer ({DatabaseErrors.Describe(e)}). Nothing was changed by this request; the page tries again on its own."),
                    StatusCodes.Status503ServiceUnavailable);
            }
        });

        group.MapGet("/", OverviewAsync);
        group.MapGet("/jobs", JobsAsync);
        group.MapGet("/jobs/{id:guid}", JobAsync);
        group.MapGet("/login", (HttpContext context) => Page(DashboardPages.SignIn(SignInFrame(context), null)));
        group.MapGet("/assets/{name}", Asset);

        group.MapPost("/login", SignInAsync);
        group.MapPost("/logout", (HttpContext context, DashboardAccess access) => ActAsync(context, signIn: false, _ =>
        {
            access.SignOut(context);
            return Task.FromResult(new JobActionOutcome(true, "Signed out."));
        }));
        group.MapPost("/jobs/{id:guid}/retry", (HttpContext context, Guid id) =>
            ActAsync(context, signIn: true, ct => Control(context).RetryAsync(id, 1, ct)));
        group.MapPost("/jobs/{id:guid}/cancel", (HttpContext context, Guid id) =>
            ActAsync(context, signIn: true, ct => Control(context).CancelAsync(id, "Cancelled from the dashboard.", ct)));
        group.MapPost("/jobs/retry-failed", async (HttpContext context, JobControl control) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var (filter, problems) = ReadFilter(key => form[key]);
            if (problems.Count > 0)
            {
                return Page(DashboardPages.Message(Frame(context), "Nothing retried", string.Join(" ", problems)), StatusCodes.Status400BadRequest);
            }

            return await ActAsync(context, signIn: true, ct => control.RetryMatchingAsync(filter with { State = JobState.Failed }, 1, ct));
        });
    }

    private static async Task<IResult> OverviewAsync(HttpContext context, JobQueries queries, BrokerQueues broker)
    {
        var ct = context.RequestAborted;
        var counts = await queries.CountByStateAsync(SucceededWindow, ct);
        var minutes = await queries.FinishedPerMinuteAsync(ChartWindow, ct);
        var due = await queries.DueSoonAsync(10, ct);
        var replicas = await queries.ReplicasAsync(ReplicasSeenWithin, ct);
        IReadOnlyList<QueueDepth>? queues = null;
        string? brokerError = null;
        try
        {
            queues = await broker.ReadAsync(ct);
        }
        catch (BrokerUnavailableException e)
        {
            brokerError = e.Message;
        }

        var now = replicas.FirstOrDefault()?.Now ?? DateTime.UtcNow;
        return Page(DashboardPages.Overview(Frame(context), new OverviewModel(counts, minutes, queues, brokerError, due, replicas, now)));
    }

    private static async Task<IResult> JobsAsync(HttpContext context, JobQueries queries, IOptions<DashboardOptions> options)
    {
        var query = context.Request.Query;
        var (filter, problems) = ReadFilter(key => query[key]);
        JobCursor? before = null;
        if (!StringValues.IsNullOrEmpty(query["before"]))
        {
            if (JobCursor.TryParse(query["before"], out var cursor))
            {
                before = cursor;
            }
            else
            {
                problems.Add($"'before' ({query["before"]}) is not a page position from this list; showing the newest jobs.");
            }
        }

        var jobs = await queries.ListAsync(filter, before, options.Value.PageSize, context.RequestAborted);
        return Page(DashboardPages.Jobs(Frame(context), new JobsModel(filter, before, jobs, options.Value.PageSize, problems)),
            problems.Count > 0 ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK);
    }

    private static async Task<IResult> JobAsync(HttpContext context, Guid id, JobQueries queries)
    {
        var job = await queries.FindAsync(id, context.RequestAborted);
        if (job is null)
        {
            return Page(DashboardPages.Message(Frame(context), "No such job", $"No job with id {id} is recorded (it may have been purged)."), StatusCodes.Status404NotFound);
        }

        var history = await queries.HistoryAsync(id, context.RequestAborted);
        return Page(DashboardPages.Job(Frame(context), new JobModel(job, history, DateTime.UtcNow)));
    }

    private static async Task<IResult> SignInAsync(HttpContext context, DashboardAccess access)
    {
        if (!access.ActionsEnabled)
        {
            return Page(DashboardPages.Message(Frame(context), "Read-only", "Actions are turned off (Dashboard:ActionsEnabled), so there is nothing to sign in to."), StatusCodes.Status403Forbidden);
        }

        if (await access.RefuseForgedAsync(context) is { } forged)
        {
            return Page(DashboardPages.Message(Frame(context), "Refused", forged), StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!access.IsToken(form["token"]))
        {
            return Page(DashboardPages.SignIn(Frame(context) with { ReturnTo = form["returnTo"].ToString() }, "That is not the dashboard token."),
                StatusCodes.Status401Unauthorized);
        }

        access.SignIn(context);
        return Back(context, form["returnTo"], "Signed in: you can retry and cancel jobs.");
    }

    /// <summary>The longest an action may wait for the database (a transition retries while the database is away).</summary>
    private static readonly TimeSpan ActionTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Runs an operator's action once the request has passed every check, and redirects back with its outcome.</summary>
    private static async Task<IResult> ActAsync(HttpContext context, bool signIn, Func<CancellationToken, Task<JobActionOutcome>> action)
    {
        var access = context.RequestServices.GetRequiredService<DashboardAccess>();
        if (!access.ActionsEnabled)
        {
            return Page(DashboardPages.Message(Frame(context), "Read-only", "Actions are turned off on this dashboard (Dashboard:ActionsEnabled)."), StatusCodes.Status403Forbidden);
        }

        if (signIn && !access.IsSignedIn(context))
        {
            return Page(DashboardPages.Message(Frame(context), "Sign in first", "Retrying and cancelling jobs needs the dashboard token: sign in, then try again."), StatusCodes.Status401Unauthorized);
        }

        if (await access.RefuseForgedAsync(context) is { } forged)
        {
            return Page(DashboardPages.Message(Frame(context), "Refused", forged), StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        bound.CancelAfter(ActionTimeout);
        JobActionOutcome outcome;
        try
        {
            outcome = await action(bound.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            outcome = new JobActionOutcome(false,
                $"The job database did not answer within {ActionTimeout.TotalSeconds:0} s, so the action may not have been applied: look at the job again before repeating it.");
        }

        return Back(context, form["returnTo"], outcome.Message);
    }

    /// <summary>Redirects to <paramref name="returnTo"/> when it is one of the dashboard's own pages (never elsewhere), carrying <paramref name="notice"/>.</summary>
    private static IResult Back(HttpContext context, string? returnTo, string notice)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<DashboardOptions>>().Value;
        var home = $"{context.Request.PathBase}{options.Path}";
        var target = returnTo is not null && returnTo.StartsWith(home + "/", StringComparison.Ordinal) && !returnTo.StartsWith("//", StringComparison.Ordinal)
            && Uri.IsWellFormedUriString(returnTo, UriKind.Relative)
            ? returnTo
            : home + "/";
        context.Response.Cookies.Append(NoticeCookie, Uri.EscapeDataString(notice), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = home,
            MaxAge = TimeSpan.FromMinutes(1),
        });
        return Results.Redirect(target, permanent: false, preserveMethod: false);
    }

    private static PageFrame Frame(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<DashboardOptions>>().Value;
        var access = context.RequestServices.GetRequiredService<DashboardAccess>();
        var basePath = $"{context.Request.PathBase}{options.Path}";
        string? notice = null;
        if (context.Request.Cookies.TryGetValue(NoticeCookie, out var carried))
        {
            notice = Uri.UnescapeDataString(carried);
            context.Response.Cookies.Delete(NoticeCookie, new CookieOptions { Path = basePath });
        }

        var signedIn = access.IsSignedIn(context);
        var token = options.ActionsEnabled ? access.FormToken(context) : null;
        return new PageFrame(basePath, $"{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}",
            options.ActionsEnabled, signedIn, token?.FormFieldName, token?.RequestToken, notice, options.RefreshInterval);
    }

    /// <summary>The sign-in page's frame: its form returns to the page the sign-in link was followed from (checked again on the way back).</summary>
    private static PageFrame SignInFrame(HttpContext context)
    {
        var frame = Frame(context);
        var returnTo = context.Request.Query["returnTo"].ToString();
        return returnTo.Length == 0 ? frame with { ReturnTo = $"{frame.BasePath}/" } : frame with { ReturnTo = returnTo };
    }

    /// <summary>The filter named by query or form fields; each value that cannot be read is a problem, named, and left out.</summary>
    private static (JobFilter Filter, List<string> Problems) ReadFilter(Func<string, StringValues> field)
    {
        var problems = new List<string>();
        var filter = JobFilter.All;
        if (Value(field("state")) is { } state)
        {
            if (Enum.TryParse<JobState>(state, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
            {
                filter = filter with { State = parsed };
            }
            else
            {
                problems.Add($"State '{state}' is not one of {string.Join(", ", Enum.GetNames<JobState>())}.");
            }
        }

        filter = filter with { Type = Value(field("type")), ErrorContains = Value(field("error")), Owner = Value(field("owner")) };
        filter = filter with { CreatedFrom = Time(field("from"), "Created from"), CreatedTo = Time(field("to"), "Created before") };
        return (filter, problems);

        DateTime? Time(StringValues raw, string name)
        {
            if (Value(raw) is not { } text)
            {
                return null;
            }

            if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                return at;
            }

            problems.Add($"{name} '{text}' is not a date and time (use 2026-12-02T14:30, in UTC).");
            return null;
        }
    }

    private static string? Value(StringValues raw)
    {
        var text = raw.ToString().Trim();
        return text.Length == 0 ? null : text[..Math.Min(text.Length, 500)];
    }

    private static JobControl Control(HttpContext context) => context.RequestServices.GetRequiredService<JobControl>();

    private static IResult Page(string html, int status = StatusCodes.Status200OK) =>
        Results.Text(html, "text/html; charset=utf-8", statusCode: status);

    private static IResult Asset(string name, HttpContext context)
    {
        var (resource, type) = name switch
        {
            "dashboard.css" => ("JobWorker.Dashboard.Assets.dashboard.css", "text/css; charset=utf-8"),
            "dashboard.js" => ("JobWorker.Dashboard.Assets.dashboard.js", "text/javascript; charset=utf-8"),
            _ => (null, null),
        };
        var stream = resource is null ? null : Assembly.GetExecutingAssembly().GetManifestResourceStream(resource);
        if (stream is null)
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = "public, max-age=300";
        return Results.Stream(stream, type);
    }
}
