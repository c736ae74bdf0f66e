using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Porthole.Protocol.Security;
using Porthole.Tests.Common;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Transport;

/// <summary>
/// TLS session resumption of the handler the agent and the CLI use for every connection to the server. Observed from
/// the server side: <c>openssl s_server -www</c> reports on its status page whether the session was new or resumed.
/// </summary>
public sealed class TlsResumptionTests
{
    [Fact]
    public async Task PinnedHandler_ResumesTheSessionOnItsNextConnection_WhenTheServerHasAName()
    {
        using var directory = new TempDirectory("porthole-tls-resume");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certificatePath = directory.WriteFile("cert.pem", certificate.ExportCertificatePem());
        var keyPath = directory.WriteFile("key.pem", key.ExportPkcs8PrivateKeyPem());

        var port = FreePort.Get();
        await using var server = ProcessRunner.Start("openssl", ["s_server", "-accept", $"127.0.0.1:{port}", "-cert", certificatePath, "-key", keyPath, "-www", "-quiet"]);
        Assert.True(await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(10)), "openssl s_server did not start: " + server.CapturedOutput);

        // The custom validation callback of a pin must not keep the runtime from caching the session.
        using var invoker = new HttpMessageInvoker(new ServerTrust(Fingerprint: CertificateFingerprint.Of(certificate)).CreateHandler());
        var first = await StatusLineAsync(invoker, port);
        var second = await StatusLineAsync(invoker, port);

        Assert.StartsWith("New, TLSv1.3", first, StringComparison.Ordinal);
        Assert.StartsWith("Reused, TLSv1.3", second, StringComparison.Ordinal);
    }

    /// <summary>One request on a connection of its own (<c>Connection: close</c>); the status page's New/Reused line.</summary>
    private static async Task<string> StatusLineAsync(HttpMessageInvoker invoker, int port)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://localhost:{port}/") { Version = HttpVersion.Version11 };
        request.Headers.ConnectionClose = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await invoker.SendAsync(request, timeout.Token);
        var page = await response.Content.ReadAsStringAsync(timeout.Token);
        return page.Split('\n').FirstOrDefault(l => l.StartsWith("New,", StringComparison.Ordinal) || l.StartsWith("Reused,", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("no New/Reused line in the s_server page: " + page);
    }
}
