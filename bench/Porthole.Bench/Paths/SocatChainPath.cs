using System.Globalization;
using Porthole.Tests.Common;

namespace Porthole.Bench.Paths;

/// <summary>
/// Three <c>socat</c> relays in series in front of each target — the shape of Porthole's chain (CLI, server, agent)
/// with nothing but copying in each process: 128 KiB buffers, <c>TCP_NODELAY</c>, no TLS, no framing. It shows what
/// three relay processes cost on this machine by themselves, so that Porthole's added latency can be read against
/// that floor as well as against direct TCP and <c>ssh -L</c>'s two processes. Its set-up time is no floor (each
/// relay forks a process per connection), and it has no CPU per GB (those processes are gone before their time
/// could be read).
/// </summary>
public sealed class SocatChainPath : BenchPath
{
    private const int Relays = 3;
    private readonly List<ProcessRunner> _iperfRelays = [];
    private readonly List<ProcessRunner> _echoRelays = [];

    private SocatChainPath()
    {
    }

    public override string Key => "socat-3";

    public override string Label => "socat ×3 (plain relays)";

    public static async Task<SocatChainPath> StartAsync(int iperfPort, int echoPort)
    {
        var path = new SocatChainPath();
        try
        {
            path.IperfPort = await StartChainAsync(path._iperfRelays, iperfPort);
            path.EchoPort = await StartChainAsync(path._echoRelays, echoPort);
            return path;
        }
        catch
        {
            await path.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the relays from the target outwards and returns the port of the outermost.</summary>
    private static async Task<int> StartChainAsync(List<ProcessRunner> relays, int targetPort)
    {
        var next = targetPort;
        for (var i = 0; i < Relays; i++)
        {
            var port = FreePort.Get();
            var relay = ProcessRunner.Start("socat", [
                "-b", "131072",
                $"TCP-LISTEN:{port.ToString(CultureInfo.InvariantCulture)},bind=127.0.0.1,reuseaddr,fork,nodelay",
                $"TCP:127.0.0.1:{next.ToString(CultureInfo.InvariantCulture)},nodelay"]);
            relays.Add(relay);
            if (!await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(10), () => relay.HasExited))
            {
                throw new InvalidOperationException("socat did not start: " + relay.CapturedOutput);
            }

            next = port;
        }

        return next;
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var relay in _iperfRelays.Concat(_echoRelays))
        {
            await relay.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}
