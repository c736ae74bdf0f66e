using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Porthole.Tunnel.Tests.Support;
using Porthole.Tunnel.Tls;

namespace Porthole.Tunnel.Tests.Tls;

/// <summary>
/// <see cref="OpenSslClientStream"/> against a real TLS server on loopback: .NET's <see cref="SslStream"/>, which reports
/// what the client offered (SNI, ALPN) and checks every record it decrypts.
/// </summary>
public sealed class OpenSslClientStreamTests : IDisposable
{
    private readonly X509Certificate2 _certificate = CreateCertificate();
    private readonly OpenSslClientContext _context = OpenSslClientContext.Create();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public OpenSslClientStreamTests() => _listener.Start();

    [Fact]
    public async Task Handshake_OffersTheServerNameAndHttp11_AndHandsOverTheServersCertificate()
    {
        var (client, server) = await ConnectAsync("localhost");
        await using (client)
        await using (server)
        {
            Assert.Equal("localhost", server.TargetHostName);
            Assert.Equal(SslApplicationProtocol.Http11, server.NegotiatedApplicationProtocol);
            Assert.Equal(SslProtocols.Tls13, client.Protocol);
            Assert.Equal(server.NegotiatedCipherSuite, client.NegotiatedCipherSuite);
            Assert.Equal(_certificate.Thumbprint, Assert.Single(client.PeerCertificates).Thumbprint);
            Assert.False(client.IsResumed);
        }
    }

    [Fact]
    public async Task Handshake_SendsNoServerName_ForAnAddress()
    {
        var (client, server) = await ConnectAsync("127.0.0.1");
        await using (client)
        await using (server)
        {
            Assert.Equal("", server.TargetHostName);
        }
    }

    [Fact]
    public async Task Bytes_CrossBothWaysAtOnce_Intact()
    {
        var (client, server) = await ConnectAsync("localhost");
        await using (client)
        await using (server)
        {
            var up = RandomNumberGenerator.GetBytes(8 << 20);
            var down = RandomNumberGenerator.GetBytes(8 << 20);
            using var timeout = new CancellationTokenSource(Timeouts.Test);

            // Writes in uneven pieces (a record and a half, a whole relay block), so batching and record edges both show.
            var sendUp = WriteInPiecesAsync(client, up, timeout.Token);
            var sendDown = WriteInPiecesAsync(server, down, timeout.Token);
            var receivedUp = ReadExactlyAsync(server, up.Length, timeout.Token);
            var receivedDown = ReadExactlyAsync(client, down.Length, timeout.Token);
            await Task.WhenAll(sendUp, sendDown, receivedUp, receivedDown);

            var (gotUp, gotDown) = (await receivedUp, await receivedDown);
            Assert.Equal(SHA256.HashData(up), SHA256.HashData(gotUp));
            Assert.Equal(SHA256.HashData(down), SHA256.HashData(gotDown));
        }
    }

    [Fact]
    public async Task ZeroByteRead_WaitsForData_AndLeavesItForTheNextRead()
    {
        var (client, server) = await ConnectAsync("localhost");
        await using (client)
        await using (server)
        {
            using var timeout = new CancellationTokenSource(Timeouts.Test);
            var waiting = client.ReadAsync(Memory<byte>.Empty, timeout.Token).AsTask();
            await Task.Delay(200, timeout.Token);
            Assert.False(waiting.IsCompleted, "a zero-byte read returned before any data was there");

            await server.WriteAsync("hello"u8.ToArray(), timeout.Token);
            Assert.Equal(0, await waiting);
            var buffer = new byte[16];
            var read = await client.ReadAsync(buffer, timeout.Token);
            Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    [Fact]
    public async Task ServersCloseNotify_ReadsAsTheEnd()
    {
        var (client, server) = await ConnectAsync("localhost");
        await using (client)
        await using (server)
        {
            using var timeout = new CancellationTokenSource(Timeouts.Test);
            await server.WriteAsync("last"u8.ToArray(), timeout.Token);
            await server.ShutdownAsync();

            var received = await ReadExactlyAsync(client, 4, timeout.Token);
            Assert.Equal("last"u8.ToArray(), received);
            Assert.Equal(0, await client.ReadAsync(new byte[16], timeout.Token));
        }
    }

    [Fact]
    public async Task Dispose_SendsCloseNotify_AndLaterCallsFailAsClosed()
    {
        var (client, server) = await ConnectAsync("localhost");
        await using (server)
        {
            await client.DisposeAsync();
            using var timeout = new CancellationTokenSource(Timeouts.Test);

            // SslStream returns 0 for close_notify; a connection cut without it would also read 0 but without the alert.
            Assert.Equal(0, await server.ReadAsync(new byte[16], timeout.Token));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.ReadAtLeastAsync(new byte[16], 1, cancellationToken: timeout.Token));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.WriteAsync(new byte[16], timeout.Token));
        }
    }

    [Fact]
    public async Task SecondConnection_ResumesTheFirstOnesSession()
    {
        // TLS 1.3 tickets arrive after the handshake: the first connection reads once so that OpenSSL takes them in.
        var (first, firstServer) = await ConnectAsync("localhost");
        await using (first)
        await using (firstServer)
        {
            using var timeout = new CancellationTokenSource(Timeouts.Test);
            first.MarkTrusted();
            await firstServer.WriteAsync(new byte[] { 1 }, timeout.Token);
            Assert.Equal(1, await first.ReadAsync(new byte[1], timeout.Token));
        }

        var (second, secondServer) = await ConnectAsync("localhost");
        await using (second)
        await using (secondServer)
        {
            Assert.True(second.IsResumed, "the second connection did a full handshake");
            Assert.Equal(_certificate.Thumbprint, Assert.Single(second.PeerCertificates).Thumbprint);
        }
    }

    [Fact]
    public async Task ASessionOfAConnectionNotMarkedTrusted_IsNeverOffered()
    {
        // A server whose certificate the caller refused must not leave its session to be resumed by the next connection.
        var (first, firstServer) = await ConnectAsync("localhost");
        await using (first)
        await using (firstServer)
        {
            using var timeout = new CancellationTokenSource(Timeouts.Test);
            await firstServer.WriteAsync(new byte[] { 1 }, timeout.Token);
            Assert.Equal(1, await first.ReadAsync(new byte[1], timeout.Token));
        }

        var (second, secondServer) = await ConnectAsync("localhost");
        await using (second)
        await using (secondServer)
        {
            Assert.False(second.IsResumed, "the second connection resumed a session that was never trusted");
        }
    }

    [Fact]
    public async Task Handshake_CutByThePeer_IsANetworkFailure_NotACertificateRefusal()
    {
        // The CLI tells "cannot reach" from "certificate not trusted" by the exception's type, as with SslStream.
        using var timeout = new CancellationTokenSource(Timeouts.Test);
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        var accepting = _listener.AcceptSocketAsync(timeout.Token).AsTask();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        (await accepting).Dispose();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => OpenSslClientStream.ConnectAsync(socket, _context, "localhost", port, timeout.Token));

        Assert.True(failure is IOException, failure.ToString());
    }

    [Theory]
    [InlineData("https://example.com/", "example.com")]
    [InlineData("https://example.com:8443/x", "example.com:8443")]
    [InlineData("https://[::1]:8443/", "[::1]:8443")]
    [InlineData("https://127.0.0.1/", "127.0.0.1")]
    [InlineData("https://bücher.example/", "xn--bcher-kva.example")]
    public void HostHeader_IsTheOneSocketsHttpHandlerWouldSend(string uri, string expected) =>
        Assert.Equal(expected, Porthole.Tunnel.Transport.ClientTlsHandler.HostHeader(new Uri(uri)));

    private async Task<(OpenSslClientStream Client, SslStream Server)> ConnectAsync(string host)
    {
        using var timeout = new CancellationTokenSource(Timeouts.Test);
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        var accepting = _listener.AcceptSocketAsync(timeout.Token).AsTask();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var server = new SslStream(new NetworkStream(await accepting, ownsSocket: true));
        var serving = server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = _certificate,
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
        }, timeout.Token);
        var client = await OpenSslClientStream.ConnectAsync(socket, _context, host, port, timeout.Token);
        await serving;
        return (client, server);
    }

    private static async Task WriteInPiecesAsync(Stream stream, byte[] data, CancellationToken cancellationToken)
    {
        var sizes = new[] { 24 * 1024, 128 * 1024, 1, 300 * 1024 };
        for (int offset = 0, i = 0; offset < data.Length; i++)
        {
            var length = Math.Min(sizes[i % sizes.Length], data.Length - offset);
            await stream.WriteAsync(data.AsMemory(offset, length), cancellationToken);
            offset += length;
        }
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        // SslStream on Linux wants a certificate whose key it can export to OpenSSL: a PKCS#12 round trip gives that.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public void Dispose()
    {
        _listener.Stop();
        _context.Dispose();
        _certificate.Dispose();
    }
}
