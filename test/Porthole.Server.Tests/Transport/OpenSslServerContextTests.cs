using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Porthole.Server.Transport;
using Porthole.Server.Transport.Tls;

namespace Porthole.Server.Tests.Transport;

/// <summary>
/// The OpenSSL context serves what an operator's own certificate brings: an RSA key (the default certificate is
/// ECDSA) and the intermediate between it and the root, which <see cref="SslStreamCertificateContext"/> finds and the
/// context must send. Probed with <c>openssl s_client</c>, the real client that shows what the server sent.
/// </summary>
public sealed partial class OpenSslServerContextTests
{
    private static readonly Reactor SharedReactor = new();

    [Fact]
    public async Task AnRsaCertificate_IsServed_WithItsIntermediate()
    {
        var (leaf, intermediate) = CreateChain();
        using var context = OpenSslServerContext.Create(SslStreamCertificateContext.Create(leaf, [intermediate], offline: true));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);

        var probe = ProcessRunner.RunAsync("openssl", ["s_client", "-connect", "127.0.0.1:" + port, "-showcerts", "-tls1_2"], stdin: "", timeout: TimeSpan.FromSeconds(20));
        using var accepted = await listener.AcceptAsync();
        accepted.Blocking = false;
        using var readiness = SharedReactor.Register((int)accepted.Handle);
        var session = new OpenSslSession(context, (int)accepted.Handle, readiness, new RawSocketStream((int)accepted.Handle, readiness));
        try
        {
            await session.HandshakeAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            await session.ShutdownAsync();
            accepted.Shutdown(SocketShutdown.Both);
            var result = await probe;
            var output = result.StandardOutput + result.StandardError;

            Assert.Equal(2, CertificateBlocks().Count(output));
            Assert.Contains("s:CN = Probe intermediate", output, StringComparison.Ordinal);
            Assert.Contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256", output, StringComparison.Ordinal);
        }
        finally
        {
            await session.DisposeAsync();
        }
    }

    private static (X509Certificate2 Leaf, X509Certificate2 Intermediate) CreateChain()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = RSA.Create(2048);
        var rootRequest = new CertificateRequest("CN=Probe root", rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var root = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(10));

        using var intermediateKey = RSA.Create(2048);
        var intermediateRequest = new CertificateRequest("CN=Probe intermediate", intermediateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var intermediatePublic = intermediateRequest.Create(root, now.AddDays(-1), now.AddDays(5), [1, 2, 3]);
        var intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);

        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=127.0.0.1", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var leafPublic = leafRequest.Create(intermediate, now.AddDays(-1), now.AddDays(2), [4, 5, 6]);
        return (leafPublic.CopyWithPrivateKey(leafKey), intermediate);
    }

    [GeneratedRegex("-----BEGIN CERTIFICATE-----")]
    private static partial Regex CertificateBlocks();
}
