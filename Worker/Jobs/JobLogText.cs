namespace JobWorker.Jobs;

/// <summary>Words for the optional values of job log lines: the generated formatter would print a null as "(null)".</summary>
internal static class JobLogText
{
    /// <summary>The reason as given, or a phrase saying none was recorded.</summary>
    public static string Reason(string? reason) => string.IsNullOrWhiteSpace(reason) ? "no reason recorded" : reason;
}
