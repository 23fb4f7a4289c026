using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>The stylesheet and script, served from the assembly: no CDN, no npm, no files beside the binary.</summary>
internal static class AssetHandler
{
    public static IResult Handle(string name, HttpContext context)
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
