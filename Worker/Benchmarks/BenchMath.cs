namespace JobWorker.Benchmarks;

internal static class BenchMath
{
    /// <summary>The <paramref name="percentile"/>th percentile (0-100) by nearest rank; 0 for no values.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>CPU time (user + system) a process has used so far, in seconds, from /proc; 0 where /proc is not available.</summary>
    public static double CpuSeconds(int processId)
    {
        var stat = $"/proc/{processId}/stat";
        if (!File.Exists(stat))
        {
            return 0;
        }

        // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15, in clock ticks (100/s on Linux).
        var text = File.ReadAllText(stat);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    /// <summary>Peak resident set (VmHWM) of a process, in MB, from /proc; 0 where /proc is not available.</summary>
    public static double PeakWorkingSetMb(int processId)
    {
        var status = $"/proc/{processId}/status";
        if (!File.Exists(status))
        {
            return 0;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
