using System.Globalization;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>Resident memory of a process, from <c>/proc/PID/status</c>.</summary>
public static class ProcessMemory
{
    /// <summary>The current resident set size in bytes (<c>VmRSS</c>).</summary>
    public static long Rss(int pid) => Read(pid, "VmRSS:");

    /// <summary>The peak resident set size in bytes since start or the last <see cref="ResetPeak"/> (<c>VmHWM</c>).</summary>
    public static long Peak(int pid) => Read(pid, "VmHWM:");

    /// <summary>Resets <c>VmHWM</c> to the current RSS (writing 5 to <c>clear_refs</c>, Linux 4.0+); false where not allowed.</summary>
    public static bool ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Read(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field, StringComparison.Ordinal));
        var kilobytes = line[field.Length..].Trim().Split(' ')[0];
        return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
    }
}
