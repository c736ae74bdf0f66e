using System.Text.Json;
using System.Text.Json.Nodes;

namespace Porthole.Bench.Report;

/// <summary>The machine-readable result: every sample, medians, ratios and targets.</summary>
public static class JsonReport
{
    public static string Serialize(BenchRun run)
    {
        static JsonNode? N(double? v) => v is null || double.IsNaN(v.Value) || double.IsInfinity(v.Value) ? null : JsonValue.Create(Math.Round(v.Value, 4));
        static JsonObject? L(Measure.Latency.Result? r) => r is null ? null : new JsonObject { ["p50"] = N(r.P50), ["p99"] = N(r.P99), ["p999"] = N(r.P999), ["count"] = r.Count };

        var paths = new JsonArray();
        foreach (var p in run.Paths)
        {
            var throughput = new JsonObject();
            foreach (var test in PathResult.ThroughputTests)
            {
                throughput[test] = new JsonObject
                {
                    ["medianGbps"] = N(p.MedianGbps(test)),
                    ["samplesGbps"] = new JsonArray([.. p.Throughput[test].Select(s => N(s))]),
                };
            }

            paths.Add(new JsonObject
            {
                ["key"] = p.Key,
                ["label"] = p.Label,
                ["throughput"] = throughput,
                ["rtt1ByteMicroseconds"] = L(p.Rtt1),
                ["rtt4KiBMicroseconds"] = L(p.Rtt4K),
                ["setUpMilliseconds"] = L(p.SetUpMs),
                ["setUpChainCpuMilliseconds"] = N(p.SetUpChainCpuMs),
                ["setUpServerCpuMilliseconds"] = N(p.SetUpServerCpuMs),
                ["bytesRelayed"] = p.BytesRelayed,
                ["serverCpuSecondsPerGB"] = N(p.ServerCpuPerGB),
                ["chainCpuSecondsPerGB"] = N(p.ChainCpuPerGB),
                ["serverKiBPerIdleSession"] = N(p.IdleSessionKiB),
                ["serverKiBPerIdleSessionSecondHalf"] = N(p.IdleSessionSecondHalfKiB),
                ["serverIdleCpuPercentPer1000Sessions"] = N(p.IdleSessionCpuPercent),
                ["agentIdleCpuPercentPer1000Sessions"] = N(p.IdleSessionAgentCpuPercent),
                ["forwardIdleCpuPercentPer1000Sessions"] = N(p.IdleSessionForwardCpuPercent),
                ["serverKiBPerIdleAgent"] = N(p.IdleAgentKiB),
                ["serverKiBPerIdleAgentSecondHalf"] = N(p.IdleAgentSecondHalfKiB),
                ["serverPssKiBWithIdleAgents"] = N(p.IdleAgentsServerPssKiB),
            });
        }

        var targets = new JsonArray([.. Targets.Evaluate(run).Select(t => new JsonObject { ["target"] = t.Name, ["measured"] = t.Measured, ["met"] = t.Met })]);
        var root = new JsonObject
        {
            ["finishedAt"] = run.FinishedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["elapsedSeconds"] = Math.Round(run.Elapsed.TotalSeconds),
            ["smoke"] = run.Options.Smoke,
            ["machine"] = new JsonObject
            {
                ["cores"] = run.Machine.Cores,
                ["cpuModel"] = run.Machine.CpuModel,
                ["kernel"] = run.Machine.Kernel,
                ["runtime"] = run.Machine.Runtime,
                ["loadAverage1"] = run.Machine.LoadAverage1,
            },
            ["options"] = new JsonObject
            {
                ["durationSeconds"] = run.Options.Duration,
                ["repeats"] = run.Options.Repeats,
                ["roundTrips"] = run.Options.RoundTrips,
                ["setUps"] = run.Options.SetUps,
                ["setUpWarmUps"] = run.Options.SetUpWarmUps,
                ["setUpGapMilliseconds"] = run.Options.SetUpGapMs,
                ["idleSessions"] = run.Options.IdleSessions,
                ["idleAgents"] = run.Options.IdleAgents,
            },
            ["paths"] = paths,
            ["targets"] = targets,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
