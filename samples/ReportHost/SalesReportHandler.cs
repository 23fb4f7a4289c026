using System.Globalization;
using JobWorker.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReportHost;

/// <summary>
/// <c>sales-report</c>: adds up a region's sales, one day at a time, and writes them as a CSV file.
/// Payload <see cref="SalesReportRequest"/>; result <see cref="SalesReport"/>.
/// </summary>
/// <remarks>
/// JobWorker reads the payload into <see cref="SalesReportRequest"/>: a payload that does not bind (no region, days as a
/// string) fails the job at once naming the field. Takes a few seconds (<c>Reports:TimePerDay</c> per day) and stops at
/// once when its token fires (timeout, cancel, shutdown or a lost lease), leaving no half-written file. JobWorker holds
/// no database connection while it runs.
/// </remarks>
public sealed class SalesReportHandler(IOptions<ReportOptions> options, ILogger<SalesReportHandler> logger)
    : JobHandler<SalesReportRequest, SalesReport>
{
    public const string JobType = "sales-report";

    protected override async Task<SalesReport> RunAsync(SalesReportRequest request, JobRun job, CancellationToken cancellationToken)
    {
        var (region, days) = Check(request);
        var settings = options.Value;
        var directory = Path.GetFullPath(settings.OutputDirectory);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"sales-{region}-{job.JobId:N}.csv");
        var partial = path + ".partial";

        var random = new Random(HashCode.Combine(region, job.JobId));
        var total = 0m;
        try
        {
            await using (var csv = new StreamWriter(partial))
            {
                await csv.WriteLineAsync("day,region,sales");
                for (var day = 1; day <= days; day++)
                {
                    await Task.Delay(settings.TimePerDay, cancellationToken);
                    var sales = Math.Round((decimal)(random.NextDouble() * 1000), 2);
                    total += sales;
                    await csv.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{day},{region},{sales}"));
                }
            }

            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }

        logger.LogInformation("Sales report for {Region}: {Days} days, total {Total}, in {Path}", region, days, total, path);
        return new SalesReport(path, days, total);
    }

    /// <summary>What the payload's types cannot say: the region goes into a file name, and a year is the longest report.</summary>
    private static (string Region, int Days) Check(SalesReportRequest request)
    {
        if (request.Region is not { Length: > 0 and <= 32 } region || !region.All(char.IsAsciiLetterOrDigit))
        {
            throw new InvalidJobPayloadException($"{JobType}: payload field $.region: expected 1 to 32 letters or digits, e.g. \"emea\", got \"{Clip(request.Region)}\"");
        }

        if (request.Days is < 1 or > 366)
        {
            throw new InvalidJobPayloadException($"{JobType}: payload field $.days: expected a whole number from 1 to 366, got {request.Days}");
        }

        return (region.ToLowerInvariant(), request.Days);
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..39] + "…";
}
