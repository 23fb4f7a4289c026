using System.Globalization;
using System.Text.Json;
using JobWorker.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReportHost;

/// <summary>
/// <c>sales-report</c>: adds up a region's sales, one day at a time, and writes them as a CSV file.
/// Payload <c>{"region": "emea", "days": 30}</c>; result <c>{"path": "...", "rows": 30, "total": 1234.5}</c>.
/// </summary>
/// <remarks>
/// Takes a few seconds (<c>Reports:TimePerDay</c> per day) and stops at once when its token fires (timeout, cancel or
/// shutdown), leaving no half-written file. JobWorker holds no database connection while it runs.
/// </remarks>
public sealed class SalesReportHandler(IOptions<ReportOptions> options, ILogger<SalesReportHandler> logger) : IJobHandler
{
    public const string JobType = "sales-report";

    public async Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken)
    {
        var request = Read(job.Payload);
        var settings = options.Value;
        var directory = Path.GetFullPath(settings.OutputDirectory);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"sales-{request.Region}-{job.JobId:N}.csv");
        var partial = path + ".partial";

        var random = new Random(HashCode.Combine(request.Region, job.JobId));
        var total = 0m;
        try
        {
            await using (var csv = new StreamWriter(partial))
            {
                await csv.WriteLineAsync("day,region,sales");
                for (var day = 1; day <= request.Days; day++)
                {
                    await Task.Delay(settings.TimePerDay, cancellationToken);
                    var sales = Math.Round((decimal)(random.NextDouble() * 1000), 2);
                    total += sales;
                    await csv.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{day},{request.Region},{sales}"));
                }
            }

            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        logger.LogInformation("Sales report for {Region}: {Days} days, total {Total}, in {Path}", request.Region, request.Days, total, path);
        return JsonSerializer.SerializeToElement(new { path, rows = request.Days, total });
    }

    private static (string Region, int Days) Read(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object
            || !payload.TryGetProperty("region", out var region) || region.ValueKind != JsonValueKind.String
            || region.GetString() is not { Length: > 0 and <= 32 } name || !name.All(char.IsAsciiLetterOrDigit))
        {
            throw new InvalidJobPayloadException("sales-report: payload needs \"region\", 1 to 32 letters or digits, e.g. {\"region\": \"emea\", \"days\": 30}.");
        }

        var days = 30;
        if (payload.TryGetProperty("days", out var value) && !(value.TryGetInt32(out days) && days is >= 1 and <= 366))
        {
            throw new InvalidJobPayloadException("sales-report: \"days\" must be a whole number from 1 to 366.");
        }

        return (name.ToLowerInvariant(), days);
    }
}
