using Porthole.Bench.Paths;

namespace Porthole.Bench.Measure;

/// <summary>CPU of a path's relay chain and, for Porthole, of its server, agent and the echo forward's CLI (the one the set-ups use).</summary>
public readonly record struct SetUpCpu(double Chain, double? Server, double? Agent, double? Cli)
{
    public static SetUpCpu Read(BenchPath path) => path is PortholePath porthole
        ? new(ProcStats.CpuSeconds(path.ChainPids), ProcStats.CpuSeconds(porthole.ServerPid), ProcStats.CpuSeconds(porthole.AgentPid), ProcStats.CpuSeconds(porthole.EchoForwardPid))
        : new(ProcStats.CpuSeconds(path.ChainPids), null, null, null);

    /// <summary>Milliseconds per set-up since <paramref name="before"/>, over <paramref name="count"/> set-ups.</summary>
    public SetUpCpu MillisecondsPer(SetUpCpu before, int count) =>
        new(Per(Chain, before.Chain, count), Per(Server, before.Server, count), Per(Agent, before.Agent, count), Per(Cli, before.Cli, count));

    private static double Per(double after, double before, int count) => (after - before) * 1000 / count;

    private static double? Per(double? after, double? before, int count) => after - before is { } spent ? spent * 1000 / count : null;
}
