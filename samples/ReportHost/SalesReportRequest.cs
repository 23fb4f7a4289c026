namespace ReportHost;

/// <summary>The <c>sales-report</c> payload, e.g. <c>{"region": "emea", "days": 30}</c>: a region is required, days default to 30.</summary>
public sealed record SalesReportRequest(string Region, int Days = 30);
