using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Porthole.Protocol.Security;
using Porthole.Tests.Common;
using Porthole.Tunnel.Tests.Support;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Transport;

/// <summary>
/// What TLS the handler negotiates that the agent and the CLI use for every connection to the server, observed from
/// the server side: <c>openssl s_server -www</c> answers with a status page that names the cipher suite and whether
/// the session was new or resumed. s_server follows the client's order of suites unless told otherwise. Each test runs
/// with both TLS stacks the handler can use (<see cref="ClientTlsChoice"/>): OpenSSL on the socket and SslStream.
/// </summary>
public sealed class HandlerTlsTests
{
    [Theory]
    [InlineData(ClientTlsChoice.OpenSsl)]
    [InlineData(ClientTlsChoice.SslStream)]
    public async Task PinnedHandler_ResumesTheSessionOnItsNextConnection_WhenTheServerHasAName(ClientTlsChoice tls)
    {
        await using var server = await StatusServer.StartAsync();

        // The custom validation callback of a pin must not keep the runtime from caching the session.
        using var invoker = new HttpMessageInvoker(new ServerTrust(Fingerprint: CertificateFingerprint.Of(server.Certificate)).CreateHandler(tls));
        var first = SessionLine(await server.GetPageAsync(invoker));
        var second = SessionLine(await server.GetPageAsync(invoker));

        // TLS 1.3 tickets arrive after the handshake; on a loaded machine (CI) the second connection can be dialled
        // before the first one's ticket was taken in, so one more connection is allowed before resumption must show.
        if (!second.StartsWith("Reused,", StringComparison.Ordinal))
        {
            second = SessionLine(await server.GetPageAsync(invoker));
        }

        Assert.StartsWith("New, TLSv1.3", first, StringComparison.Ordinal);
        Assert.StartsWith("Reused, TLSv1.3", second, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ClientTlsChoice.OpenSsl)]
    [InlineData(ClientTlsChoice.SslStream)]
    public async Task Handler_LeavesTheChoiceOfSuiteToTheServer(ClientTlsChoice tls)
    {
        // s_server takes the client's first choice; OpenSSL's own first choice is AES-256-GCM. A list set here would cost
        // the session cache (test above), and on Porthole's server a list would cost its shared TLS context (TlsVersionTests).
        await using var server = await StatusServer.StartAsync();
        using var invoker = new HttpMessageInvoker(new ServerTrust(Fingerprint: CertificateFingerprint.Of(server.Certificate)).CreateHandler(tls));

        var page = await server.GetPageAsync(invoker);

        Assert.Contains("Cipher is TLS_AES_256_GCM_SHA384", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ClientTlsChoice.OpenSsl)]
    [InlineData(ClientTlsChoice.SslStream)]
    public async Task CaHandler_TrustsACertificateItsCaIssued_AndRefusesAnotherCa(ClientTlsChoice tls)
    {
        // The handler builds the chain against the private CA alone (ServerTrust.CreateChainPolicy), not the system's
        // roots: a real handshake must still pass for the CA's certificate and fail for any other issuer.
        using var directory = new TempDirectory("porthole-tls-ca");
        using var ca = TestCertificates.Authority("CN=porthole-test-ca");
        using var otherCa = TestCertificates.Authority("CN=another-ca");
        await using var server = await StatusServer.StartAsync(issuer: ca);
        var caPath = directory.WriteFile("ca.pem", ca.ExportCertificatePem());
        var otherPath = directory.WriteFile("other.pem", otherCa.ExportCertificatePem());

        using var trusting = new HttpMessageInvoker(new ServerTrust(CaCertificatePath: caPath).CreateHandler(tls));
        using var refusing = new HttpMessageInvoker(new ServerTrust(CaCertificatePath: otherPath).CreateHandler(tls));

        Assert.StartsWith("New, TLSv1.3", SessionLine(await server.GetPageAsync(trusting)), StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => server.GetPageAsync(refusing));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
    }

    [Theory]
    [InlineData(ClientTlsChoice.OpenSsl)]
    [InlineData(ClientTlsChoice.SslStream)]
    public async Task CaHandler_RefusesItsCasCertificate_ForAnotherName(ClientTlsChoice tls)
    {
        // The certificate names localhost only; dialled as 127.0.0.1 it must fail the host-name check.
        using var directory = new TempDirectory("porthole-tls-name");
        using var ca = TestCertificates.Authority("CN=porthole-test-ca");
        await using var server = await StatusServer.StartAsync(issuer: ca);
        var caPath = directory.WriteFile("ca.pem", ca.ExportCertificatePem());
        using var invoker = new HttpMessageInvoker(new ServerTrust(CaCertificatePath: caPath).CreateHandler(tls));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => server.GetPageAsync(invoker, host: "127.0.0.1"));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        Assert.StartsWith("New, TLSv1.3", SessionLine(await server.GetPageAsync(invoker)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ClientTlsChoice.OpenSsl)]
    [InlineData(ClientTlsChoice.SslStream)]
    public async Task PinnedHandler_RefusesAnotherCertificate_AndSystemTrustRefusesASelfSignedOne(ClientTlsChoice tls)
    {
        await using var server = await StatusServer.StartAsync();
        using var other = TestCertificates.SelfSigned("CN=localhost");
        using var pinnedElsewhere = new HttpMessageInvoker(new ServerTrust(Fingerprint: CertificateFingerprint.Of(other)).CreateHandler(tls));
        using var system = new HttpMessageInvoker(ServerTrust.System.CreateHandler(tls));
        using var insecure = new HttpMessageInvoker(new ServerTrust(Insecure: true).CreateHandler(tls));

        foreach (var refusing in new[] { pinnedElsewhere, system })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => server.GetPageAsync(refusing));
            Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        }

        Assert.StartsWith("New, TLSv1.3", SessionLine(await server.GetPageAsync(insecure)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenSslHandler_GivesTheRequestItsUriBack()
    {
        // The handler sends an https request to its inner handler as http; the caller must never see that.
        await using var server = await StatusServer.StartAsync();
        using var invoker = new HttpMessageInvoker(new ServerTrust(Fingerprint: CertificateFingerprint.Of(server.Certificate)).CreateHandler(ClientTlsChoice.OpenSsl));
        var uri = new Uri($"https://localhost:{server.Port}/");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version11 };

        using var response = await invoker.SendAsync(request, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(uri, request.RequestUri);
        Assert.Same(request, response.RequestMessage);
        Assert.Null(request.Headers.Host);
    }

    [Fact]
    public void CreateHandler_PicksOpenSslWhereLibssl3Loads_AndSslStreamWhenAsked()
    {
        using var automatic = ServerTrust.System.CreateHandler(ClientTlsChoice.Auto);
        using var sslStream = ServerTrust.System.CreateHandler(ClientTlsChoice.SslStream);

        Assert.True(Porthole.Tunnel.Tls.OpenSslClientContext.IsSupported, "libssl.so.3 is expected on the machines the tests run on");
        Assert.IsType<ClientTlsHandler>(automatic);
        Assert.IsType<SocketsHttpHandler>(sslStream);
    }

    [Theory]
    [InlineData(null, ClientTlsChoice.Auto)]
    [InlineData("", ClientTlsChoice.Auto)]
    [InlineData("openssl", ClientTlsChoice.OpenSsl)]
    [InlineData(" SslStream ", ClientTlsChoice.SslStream)]
    public void ClientTls_ReadsTheThreeNames(string? value, ClientTlsChoice expected) => Assert.Equal(expected, ClientTls.Parse(value));

    [Fact]
    public void ClientTls_RefusesAnythingElse_NamingTheVariable()
    {
        var error = Assert.Throws<ArgumentException>(() => ClientTls.Parse("gnutls"));
        Assert.Contains("PORTHOLE_CLIENT_TLS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChainPolicy_LeavesTheSystemRootsOnlyToSystemTrust()
    {
        using var directory = new TempDirectory("porthole-tls-policy");
        using var ca = TestCertificates.Authority("CN=porthole-test-ca");
        var caPath = directory.WriteFile("ca.pem", ca.ExportCertificatePem());

        Assert.Null(ServerTrust.System.CreateChainPolicy());
        foreach (var trust in new[] { new ServerTrust(Fingerprint: CertificateFingerprint.Of(ca)), new ServerTrust(Insecure: true) })
        {
            var policy = trust.CreateChainPolicy()!;
            Assert.Equal(X509ChainTrustMode.CustomRootTrust, policy.TrustMode);
            Assert.Empty(policy.CustomTrustStore);
        }

        var caPolicy = new ServerTrust(CaCertificatePath: caPath).CreateChainPolicy()!;
        Assert.Equal(X509ChainTrustMode.CustomRootTrust, caPolicy.TrustMode);
        Assert.Equal(ca.Thumbprint, Assert.Single(caPolicy.CustomTrustStore).Thumbprint);
    }

    private static string SessionLine(string page) =>
        page.Split('\n').FirstOrDefault(l => l.StartsWith("New,", StringComparison.Ordinal) || l.StartsWith("Reused,", StringComparison.Ordinal))
        ?? throw new InvalidOperationException("no New/Reused line in the s_server page: " + page);

    /// <summary>
    /// <c>openssl s_server -www</c> on loopback with a throw-away ECDSA certificate for <c>localhost</c>, self-signed or
    /// issued by <c>issuer</c>.
    /// </summary>
    private sealed class StatusServer : IAsyncDisposable
    {
        private readonly TempDirectory _directory;
        private readonly ProcessRunner _process;
        private readonly int _port;

        private StatusServer(TempDirectory directory, X509Certificate2 certificate, ProcessRunner process, int port)
        {
            _directory = directory;
            Certificate = certificate;
            _process = process;
            _port = port;
        }

        public X509Certificate2 Certificate { get; }

        public int Port => _port;

        public static async Task<StatusServer> StartAsync(X509Certificate2? issuer = null)
        {
            var directory = new TempDirectory("porthole-tls-status");
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            var (notBefore, notAfter) = (DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12));
            var certificate = issuer is null
                ? request.CreateSelfSigned(notBefore, notAfter)
                : request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
            var certificatePath = directory.WriteFile("cert.pem", certificate.ExportCertificatePem());
            var keyPath = directory.WriteFile("key.pem", key.ExportPkcs8PrivateKeyPem());

            var port = FreePort.Get();
            var process = ProcessRunner.Start("openssl", ["s_server", "-accept", $"127.0.0.1:{port}", "-cert", certificatePath, "-key", keyPath, "-www", "-quiet"]);
            var server = new StatusServer(directory, certificate, process, port);
            if (!await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(10), () => process.HasExited))
            {
                var output = process.CapturedOutput;
                await server.DisposeAsync();
                throw new InvalidOperationException("openssl s_server did not start: " + output);
            }

            return server;
        }

        /// <summary>The status page, over a connection of its own (<c>Connection: close</c>).</summary>
        public async Task<string> GetPageAsync(HttpMessageInvoker invoker, string host = "localhost")
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{host}:{_port}/") { Version = HttpVersion.Version11 };
            request.Headers.ConnectionClose = true;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var response = await invoker.SendAsync(request, timeout.Token);
            return await response.Content.ReadAsStringAsync(timeout.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await _process.DisposeAsync();
            Certificate.Dispose();
            _directory.Dispose();
        }
    }
}
