using System.Globalization;
using System.Text;

namespace Porthole.Bench.Report;

/// <summary>The Markdown report: absolute figures, ratios to direct and to ssh -L from the same run, and the targets.</summary>
public static class TableWriter
{
    public static string Markdown(BenchRun run)
    {
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');
        var direct = run.Find("direct");
        var sshDefault = run.Find("ssh-default");
        var sshGcm = run.Find("ssh-aes128-gcm");

        Line($"Machine: {run.Machine}. Run {run.FinishedAt:yyyy-MM-dd HH:mm} UTC, {run.Elapsed.TotalMinutes:0.0} min{(run.Options.Smoke ? ", SMOKE (figures are not meaningful)" : "")}.");
        Line($"Throughput: median of {run.Options.Repeats} × {F(run.Options.Duration, "0.#")} s iperf3 runs; latency: {run.Options.RoundTrips} (1 B) / {run.Options.RoundTrips / 2} (4 KiB) round trips; set-up: {run.Options.SetUps} sessions after {run.Options.SetUpWarmUps} unmeasured, each after a {run.Options.SetUpGapMs} ms pause.");
        Line("");
        Line("| path | 1 stream ↑ Gbit/s | 1 stream ↓ | 8 streams ↑ | 8 streams ↓ | RTT 1 B p50 / p99 / p99.9 µs | RTT 4 KiB p50 / p99 / p99.9 µs | set-up p50 / p99 ms | server CPU s/GB | chain CPU s/GB | server KiB / idle session | server idle CPU % per 1 000 sessions | server KiB / idle agent |");
        Line("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var p in run.Paths)
        {
            Line($"| {p.Label} | {string.Join(" | ", PathResult.ThroughputTests.Select(t => F(p.MedianGbps(t), "0.00")))} | {Rtt(p.Rtt1)} | {Rtt(p.Rtt4K)} | "
                + $"{(p.SetUpMs is null ? "–" : $"{F(p.SetUpMs.P50, "0.00")} / {F(p.SetUpMs.P99, "0.00")}")} | {F(p.ServerCpuPerGB, "0.00")} | {F(p.ChainCpuPerGB, "0.00")} | {F(p.IdleSessionKiB, "0.0")} | {F(p.IdleSessionCpuPercent, "0.00")} | {F(p.IdleAgentKiB, "0.0")} |");
        }

        Line("");
        Line("Ratios (same run): throughput as % of direct / × ssh -L default / × ssh -L aes128-gcm; latency added over direct.");
        Line("");
        Line("| path | 1 stream ↑ | 1 stream ↓ | 8 streams ↑ | 8 streams ↓ | added RTT 1 B p50 / p99 µs | added RTT 4 KiB p50 / p99 µs |");
        Line("|---|---|---|---|---|---|---|");
        foreach (var p in run.Paths.Where(p => p != direct))
        {
            var ratios = PathResult.ThroughputTests.Select(t =>
                $"{F(100 * p.MedianGbps(t) / direct?.MedianGbps(t), "0")}% / {F(p.MedianGbps(t) / sshDefault?.MedianGbps(t), "0.00")}× / {F(p.MedianGbps(t) / sshGcm?.MedianGbps(t), "0.00")}×");
            Line($"| {p.Label} | {string.Join(" | ", ratios)} | {Added(p.Rtt1, direct?.Rtt1)} | {Added(p.Rtt4K, direct?.Rtt4K)} |");
        }

        Line("");
        Line("Targets (issue 7):");
        Line("");
        Line("| target | measured | met |");
        Line("|---|---|---|");
        foreach (var target in Targets.Evaluate(run))
        {
            Line($"| {target.Name} | {target.Measured} | {(target.Met is null ? "–" : target.Met.Value ? "yes" : "**no**")} |");
        }

        return text.ToString();
    }

    private static string Rtt(Measure.Latency.Result? r) => r is null ? "–" : $"{F(r.P50, "0")} / {F(r.P99, "0")} / {F(r.P999, "0")}";

    private static string Added(Measure.Latency.Result? r, Measure.Latency.Result? direct) =>
        r is null || direct is null ? "–" : $"+{F(r.P50 - direct.P50, "0")} / {F(r.P99, "0")}";

    public static string F(double? value, string format) =>
        value is null || double.IsNaN(value.Value) || double.IsInfinity(value.Value) ? "–" : value.Value.ToString(format, CultureInfo.InvariantCulture);
}
