namespace Porthole.Bench.Paths;

/// <summary>
/// One way to reach the targets: a local port that leads to the iperf3 server and one that leads to the echo
/// server, plus the processes that relay the bytes (for CPU per GB).
/// </summary>
public abstract class BenchPath : IAsyncDisposable
{
    /// <summary>Short key used in JSON, e.g. <c>porthole-wss</c>.</summary>
    public abstract string Key { get; }

    /// <summary>Label in the table and chart.</summary>
    public abstract string Label { get; }

    public int IperfPort { get; protected set; }

    public int EchoPort { get; protected set; }

    /// <summary>The server-side relay process (Porthole server, sshd session), if any.</summary>
    public virtual IEnumerable<int> ServerPids => [];

    /// <summary>Every relay process on the path (client side, server, agent).</summary>
    public virtual IEnumerable<int> ChainPids => ServerPids;

    /// <summary>The last lines the path's processes printed, to explain a failed measurement.</summary>
    public virtual string Diagnostics() => "";

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The targets themselves: the limit every other path is compared with.</summary>
public sealed class DirectPath : BenchPath
{
    public DirectPath(int iperfPort, int echoPort)
    {
        IperfPort = iperfPort;
        EchoPort = echoPort;
    }

    public override string Key => "direct";

    public override string Label => "direct TCP";
}
