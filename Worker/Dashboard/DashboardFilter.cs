using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Dashboard;

/// <summary>
/// What every dashboard request goes through before its handler: the host and peer checks, the security headers, and
/// a page saying the database is away when a handler could not reach it.
/// </summary>
internal sealed class DashboardFilter(DashboardAccess access, IOptions<DashboardOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var headers = context.Response.Headers;

        // Nothing is fetched from elsewhere, no page may be framed, and no form may post elsewhere.
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        if (!context.Request.Path.StartsWithSegments($"{options.Value.Path}/assets"))
        {
            headers.CacheControl = "no-store";
        }

        // The host first: a DNS-rebinding page gets nothing, not even the reason the peer would be refused.
        if (access.RefuseHost(context) is { } foreignHost)
        {
            return Results.Text(foreignHost, statusCode: StatusCodes.Status400BadRequest);
        }

        if (access.RefusePeer(context) is { } remotePeer)
        {
            return Results.Text(remotePeer, statusCode: StatusCodes.Status403Forbidden);
        }

        try
        {
            return await next(invocation);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested
            && (ExceptionChain.Find<NpgsqlException>(e) is not null || e is OperationCanceledException or TimeoutException))
        {
            // The database is away or slow: say so, and let the live refresh try again.
            return DashboardResponses.Message(context, "Database unavailable",
                $"The job database did not answer ({DatabaseErrors.Describe(e)}). Nothing was changed by this request; the page tries again on its own.",
                StatusCodes.Status503ServiceUnavailable);
        }
    }
}
