using System.Globalization;

namespace Porthole.Bench.Measure;

/// <summary>CPU time and memory of a process, read from /proc.</summary>
public static class ProcStats
{
    private static readonly double TicksPerSecond = 100; // USER_HZ; 100 on every Linux we run on.

    /// <summary>utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may contain spaces; fields after it are split from the closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }

    /// <summary>Proportional set size in KiB (/proc/PID/smaps_rollup).</summary>
    public static long PssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith("Pss:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no Pss in /proc/{pid}/smaps_rollup");
    }

    /// <summary>Sum of <see cref="CpuSeconds"/> over processes.</summary>
    public static double CpuSeconds(IEnumerable<int> pids) => pids.Sum(CpuSeconds);
}
