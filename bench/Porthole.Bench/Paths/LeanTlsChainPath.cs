using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Porthole.Tests.Common;

namespace Porthole.Bench.Paths;

/// <summary>
/// Three lean TLS relays in series in front of each target (<see cref="LeanTls.LeanTlsRelay"/>): plain in and TLS out,
/// TLS to TLS, TLS in and plain out — the shape of Porthole's wss chain (CLI, server, agent; four TLS passes, the same
/// AES-256-GCM TLS 1.3 and P-256 certificate) with the least work per byte a relay can do: OpenSSL straight on the
/// sockets, one thread per connection, no framing. Its middle relay's CPU per GB is what the server's could be on
/// this machine; socat ×3 is the same floor without TLS.
/// </summary>
public sealed class LeanTlsChainPath : BenchPath
{
    private readonly TempDirectory _directory = new("porthole-bench-lean-tls");
    private readonly List<ProcessRunner> _iperfRelays = [];
    private readonly List<ProcessRunner> _echoRelays = [];

    private LeanTlsChainPath()
    {
    }

    public override string Key => "lean-tls-3";

    public override string Label => "lean TLS relays ×3";

    /// <summary>The middle relay of the iperf3 chain: the one placed where Porthole's server is.</summary>
    public override IEnumerable<int> ServerPids => _iperfRelays.Count == 3 ? [_iperfRelays[1].Id] : [];

    public override IEnumerable<int> ChainPids => _iperfRelays.Select(r => r.Id);

    public static async Task<LeanTlsChainPath> StartAsync(int iperfPort, int echoPort)
    {
        var path = new LeanTlsChainPath();
        try
        {
            var pem = path._directory.WriteFile("relay.pem", SelfSignedPem());
            path.IperfPort = await StartChainAsync(path._iperfRelays, iperfPort, pem);
            path.EchoPort = await StartChainAsync(path._echoRelays, echoPort, pem);
            return path;
        }
        catch
        {
            await path.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the relays from the target outwards (TLS in and plain out first) and returns the outermost port.</summary>
    private static async Task<int> StartChainAsync(List<ProcessRunner> relays, int targetPort, string pem)
    {
        var next = targetPort;
        foreach (var (acceptTls, connectTls) in new[] { (true, false), (true, true), (false, true) })
        {
            var port = FreePort.Get();
            string[] relayArguments = ["lean-tls-relay", Invariant(port), acceptTls ? "1" : "0", Invariant(next), connectTls ? "1" : "0", pem];
            var relay = ProcessRunner.Start(Environment.ProcessPath!, [.. HostArguments(), .. relayArguments]);
            relays.Insert(0, relay);
            if (!await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(20), () => relay.HasExited))
            {
                throw new InvalidOperationException("lean TLS relay did not start: " + relay.CapturedOutput);
            }

            next = port;
        }

        return next;
    }

    /// <summary>Under <c>dotnet porthole-bench.dll</c> the relay is the same assembly run again; under the app host, the host alone.</summary>
    private static string[] HostArguments() =>
        Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? [typeof(LeanTlsChainPath).Assembly.Location] : [];

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string SelfSignedPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    public override string Diagnostics() =>
        string.Join("\n", _iperfRelays.Concat(_echoRelays).Select(r => r.CapturedOutput).Where(o => o.Length > 0));

    public override async ValueTask DisposeAsync()
    {
        foreach (var relay in _iperfRelays.Concat(_echoRelays))
        {
            await relay.DisposeAsync();
        }

        _directory.Dispose();
        await base.DisposeAsync();
    }
}
