namespace ReportHost;

/// <summary>The <c>sales-report</c> result, stored as <c>{"path": "...", "rows": 30, "total": 1234.5}</c>.</summary>
public sealed record SalesReport(string Path, int Rows, decimal Total);
