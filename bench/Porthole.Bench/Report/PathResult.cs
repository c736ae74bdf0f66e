using Porthole.Bench.Measure;

namespace Porthole.Bench.Report;

/// <summary>Everything measured on one path; throughput keeps every sample, the report uses medians.</summary>
public sealed class PathResult(string key, string label)
{
    /// <summary>Throughput test names in report order.</summary>
    public static readonly string[] ThroughputTests = ["1 stream up", "1 stream down", "8 streams up", "8 streams down"];

    public string Key { get; } = key;

    public string Label { get; } = label;

    /// <summary>Gbit/s samples per test.</summary>
    public Dictionary<string, List<double>> Throughput { get; } = ThroughputTests.ToDictionary(t => t, _ => new List<double>());

    public double ServerCpuSeconds { get; set; }

    public double ChainCpuSeconds { get; set; }

    public long BytesRelayed { get; set; }

    public Latency.Result? Rtt1 { get; set; }

    public Latency.Result? Rtt4K { get; set; }

    public Latency.Result? SetUpMs { get; set; }

    /// <summary>CPU milliseconds the path's processes (client, server, agent; for ssh: ssh and sshd) spent per session set-up.</summary>
    public double? SetUpChainCpuMs { get; set; }

    /// <summary>The server's share of <see cref="SetUpChainCpuMs"/> (Porthole paths).</summary>
    public double? SetUpServerCpuMs { get; set; }

    /// <summary>Server PSS per idle session (see <c>IdleSessionsReading</c>).</summary>
    public double? IdleSessionKiB { get; set; }

    /// <summary>The same over the second half of the sessions, a consistency check.</summary>
    public double? IdleSessionSecondHalfKiB { get; set; }

    /// <summary>The server's CPU while the idle sessions sit idle, in % of one core per 1 000 sessions.</summary>
    public double? IdleSessionCpuPercent { get; set; }

    /// <summary>The agent's and the session-holding forward's CPU while the idle sessions idle, % of a core per 1 000.</summary>
    public double? IdleSessionAgentCpuPercent { get; set; }

    public double? IdleSessionForwardCpuPercent { get; set; }

    /// <summary>Server PSS per idle agent, and over the second half of them.</summary>
    public double? IdleAgentKiB { get; set; }

    public double? IdleAgentSecondHalfKiB { get; set; }

    /// <summary>The server's whole PSS with the idle agents (and the idle sessions) connected.</summary>
    public double? IdleAgentsServerPssKiB { get; set; }

    public double MedianGbps(string test) => Stats.Median(Throughput[test]);

    /// <summary>Server core-seconds per GB (10^9 bytes) relayed, over every throughput run of this path.</summary>
    public double? ServerCpuPerGB => BytesRelayed > 0 && ServerCpuSeconds > 0 ? ServerCpuSeconds / (BytesRelayed / 1e9) : null;

    public double? ChainCpuPerGB => BytesRelayed > 0 && ChainCpuSeconds > 0 ? ChainCpuSeconds / (BytesRelayed / 1e9) : null;
}
