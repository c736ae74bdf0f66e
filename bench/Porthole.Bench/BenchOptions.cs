using System.Globalization;

namespace Porthole.Bench;

/// <summary>Command line of <c>bench/run.sh</c>; every value has a default for a full run (≈5–10 min on 2 cores).</summary>
public sealed class BenchOptions
{
    /// <summary>A few seconds per path, so CI can check the suite still runs (it asserts that it ran, not how fast).</summary>
    public bool Smoke { get; private set; }

    /// <summary>Seconds per iperf3 run (default 4; smoke 1).</summary>
    public double Duration { get; private set; } = 4;

    /// <summary>Repetitions of every throughput test; medians are reported (default 3; smoke 1).</summary>
    public int Repeats { get; private set; } = 3;

    /// <summary>Round trips per latency measurement (default 10 000; smoke 200).</summary>
    public int RoundTrips { get; private set; } = 10_000;

    /// <summary>Sessions opened one after another for set-up time (default 100; smoke 5).</summary>
    public int SetUps { get; private set; } = 100;

    /// <summary>
    /// Sessions each path opens, unmeasured, before the measured set-ups (default 300; smoke 0): a set-up runs code the
    /// throughput tests never reach (the session API, its queries, the upgrades), and for its first few hundred times
    /// the runtime is still compiling it to its final tier.
    /// </summary>
    public int SetUpWarmUps { get; private set; } = 300;

    /// <summary>
    /// Pause before each measured set-up, in milliseconds (default 20; smoke 0). A user's click opens a session on a quiet
    /// chain; back to back (<c>--setup-gap 0</c>), every set-up also shared two cores with the previous session's close
    /// (its relay ending, the audit record of the close) and the two spare connections' TLS handshakes, which is a
    /// figure of set-ups per second more than of the wait for one.
    /// </summary>
    public int SetUpGapMs { get; private set; } = 20;

    /// <summary>Idle sessions held open for the memory figure (default 1 000, as issue 7 asks; smoke 10).</summary>
    public int IdleSessions { get; private set; } = 1000;

    /// <summary>Seconds the idle sessions stay open after their memory is read, so a heap dump can be taken (default 0).</summary>
    public double HoldIdle { get; private set; }

    /// <summary>Seconds to keep the paths up, doing nothing, once they are started (for profiling by hand); 0 runs the suite.</summary>
    public double HoldPaths { get; private set; }

    /// <summary>Idle agents (in-process control channels) for the memory figure (default 1 000; smoke 10).</summary>
    public int IdleAgents { get; private set; } = 1000;

    /// <summary>Only these path keys (plus direct), e.g. <c>porthole-ws,porthole-wss</c>; for quick before/after comparisons.</summary>
    public IReadOnlySet<string>? Paths { get; private set; }

    /// <summary>Extra environment for porthole-server (<c>--server-env DOTNET_gcServer=0</c>), to compare runtime settings.</summary>
    public Dictionary<string, string?> ServerEnvironment { get; } = [];

    /// <summary>
    /// Extra Porthole paths with their own environment for server, agent and CLI, run in the same round-robin as the
    /// rest (<c>--variant blocks4k:PORTHOLE_Porthole__TransportBlockSize=0</c>), for A/B comparisons on a noisy machine.
    /// </summary>
    public List<(string Name, Dictionary<string, string?> Environment)> Variants { get; } = [];

    /// <summary>Where JSON and SVG go (default bench/results).</summary>
    public string? OutputDirectory { get; private set; }

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        if (args.Contains("--smoke"))
        {
            options.Smoke = true;
            options.Duration = 1;
            options.Repeats = 1;
            options.RoundTrips = 200;
            options.SetUps = 5;
            options.SetUpWarmUps = 0;
            options.SetUpGapMs = 0;
            options.IdleSessions = 10;
            options.IdleAgents = 10;
        }

        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--smoke":
                    break;
                case "--duration":
                    options.Duration = double.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--repeats":
                    options.Repeats = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--round-trips":
                    options.RoundTrips = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--setups":
                    options.SetUps = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--setup-warmups":
                    options.SetUpWarmUps = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--setup-gap":
                    options.SetUpGapMs = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--idle-sessions":
                    options.IdleSessions = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--hold-idle":
                    options.HoldIdle = double.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--hold-paths":
                    options.HoldPaths = double.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--idle-agents":
                    options.IdleAgents = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--paths":
                    options.Paths = Next().Split(',').ToHashSet();
                    break;
                case "--server-env":
                    var pair = Next().Split('=', 2);
                    options.ServerEnvironment[pair[0]] = pair[1];
                    break;
                case "--variant":
                    var variant = Next().Split(':', 2);
                    var variantEnvironment = new Dictionary<string, string?>();
                    foreach (var assignment in variant.Length > 1 ? variant[1].Split(',', StringSplitOptions.RemoveEmptyEntries) : [])
                    {
                        var nameValue = assignment.Split('=', 2);
                        variantEnvironment[nameValue[0]] = nameValue.Length > 1 ? nameValue[1] : "";
                    }

                    options.Variants.Add((variant[0], variantEnvironment));
                    break;
                case "--logs":
                    Porthole.Bench.Paths.PortholePath.LogDirectory = Next();
                    break;
                case "--out":
                    options.OutputDirectory = Next();
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}; see bench/README.md");
            }
        }

        return options;
    }
}
