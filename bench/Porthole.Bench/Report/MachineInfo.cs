namespace Porthole.Bench.Report;

/// <summary>What the run ran on: figures from a different machine are not comparable.</summary>
public sealed record MachineInfo(int Cores, string CpuModel, string Kernel, string Runtime, double LoadAverage1)
{
    public static MachineInfo Collect()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return new MachineInfo(Environment.ProcessorCount, model, kernel, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, load);
    }

    public override string ToString() => $"{Cores} cores, {CpuModel}, Linux {Kernel}, {Runtime}, load average {LoadAverage1:0.00} at the end";
}
