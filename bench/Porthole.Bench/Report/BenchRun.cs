namespace Porthole.Bench.Report;

/// <summary>One complete run: options, machine and every path's figures.</summary>
public sealed record BenchRun(BenchOptions Options, MachineInfo Machine, IReadOnlyList<PathResult> Paths, DateTimeOffset FinishedAt, TimeSpan Elapsed)
{
    public PathResult? Find(string key) => Paths.FirstOrDefault(p => p.Key == key);
}
