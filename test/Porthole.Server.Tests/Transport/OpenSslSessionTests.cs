using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Porthole.Server.Hosting;
using Porthole.Server.Transport;
using Porthole.Server.Transport.Tls;

namespace Porthole.Server.Tests.Transport;

/// <summary>
/// The transport's OpenSSL session on a real loopback TCP connection, against .NET's <see cref="SslStream"/> as the
/// client: the handshake, what it negotiated, bytes both ways at once, a client that stops reading, and the close.
/// </summary>
public sealed class OpenSslSessionTests : IAsyncLifetime
{
    private static readonly Reactor SharedReactor = new();
    private static readonly Lazy<(OpenSslServerContext Context, X509Certificate2 Certificate)> Server = new(CreateServer);

    private readonly Socket _ours;
    private readonly Socket _peer;
    private readonly Reactor.Registration _readiness;
    private readonly RawSocketStream _raw;
    private readonly SslStream _client;
    private OpenSslSession _session = null!;

    public OpenSslSessionTests()
    {
        (_ours, _peer) = LoopbackPair.Connect();
        _ours.Blocking = false;
        _readiness = SharedReactor.Register((int)_ours.Handle);
        _raw = new RawSocketStream((int)_ours.Handle, _readiness);
        _client = new SslStream(new NetworkStream(_peer, ownsSocket: false), leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate?.GetCertHashString() == Server.Value.Certificate.GetCertHashString());
    }

    public async Task InitializeAsync()
    {
        Assert.True(OpenSslServerContext.IsSupported, "libssl.so.3 cannot be loaded: the transport would fall back to SslStream");
        _session = new OpenSslSession(Server.Value.Context, (int)_ours.Handle, _readiness, _raw);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var client = _client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "device.example",
            ApplicationProtocols = [SslApplicationProtocol.Http11, SslApplicationProtocol.Http2],
        }, timeout.Token);
        await Task.WhenAll(_session.HandshakeAsync(timeout.Token), client);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        if (_session is not null)
        {
            await _session.DisposeAsync();
        }

        _readiness.Dispose();
        _ours.Dispose();
        _peer.Dispose();
    }

    [Fact]
    public void Handshake_ReportsWhatWasNegotiated_InTheServersAlpnOrder()
    {
        Assert.Equal(SslProtocols.Tls13, _session.Protocol);
        Assert.Equal(_client.NegotiatedCipherSuite, _session.NegotiatedCipherSuite);
        Assert.Equal("device.example", _session.HostName);

        // The client listed http/1.1 first; the server prefers h2, as Kestrel's HTTPS layer does.
        Assert.Equal("h2"u8.ToArray(), _session.ApplicationProtocol.ToArray());
        Assert.Equal(SslApplicationProtocol.Http2, _client.NegotiatedApplicationProtocol);
    }

    [Fact]
    public async Task Bytes_FlowBothWaysAtOnce_ThroughOneSession()
    {
        // A reader on one thread and a writer on another share the SSL*: the session's lock keeps them apart.
        var up = RandomNumberGenerator.GetBytes(8 << 20);
        var down = RandomNumberGenerator.GetBytes(8 << 20);
        var received = new MemoryStream();

        var serverReads = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (received.Length < up.Length)
            {
                var read = await _session.ReadAsync(buffer);
                Assert.NotEqual(0, read);
                received.Write(buffer, 0, read);
            }
        });
        var serverWrites = Task.Run(async () =>
        {
            for (var offset = 0; offset < down.Length; offset += 300_000)
            {
                await _session.SendAsync(new ReadOnlySequence<byte>(down, offset, Math.Min(300_000, down.Length - offset)));
            }
        });
        var clientWrites = Task.Run(async () => await _client.WriteAsync(up));
        var clientReads = ReadExactlyAsync(_client, down.Length);

        await Task.WhenAll(serverReads, serverWrites, clientWrites, clientReads).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(SHA256.HashData(up), SHA256.HashData(received.ToArray()));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(await clientReads));
    }

    [Fact]
    public async Task ASend_TheClientDoesNotReadYet_IsQueued_AndArrivesOnceItReads()
    {
        // Far more than loopback's buffers hold: OpenSSL is never asked to retry, the stream queues what the socket refuses.
        var data = RandomNumberGenerator.GetBytes(16 << 20);
        var sent = _session.SendAsync(new ReadOnlySequence<byte>(data));
        Assert.False(sent.IsCompleted);

        var received = await ReadExactlyAsync(_client, data.Length).WaitAsync(TimeSpan.FromSeconds(30));
        await sent.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
    }

    [Fact]
    public async Task AHotRead_TakesEveryRecordThatHasArrived_InOneCall()
    {
        // Four records wait in the socket: on the hot path one receive takes them all and one synchronous read
        // decrypts them into a large buffer (elsewhere OpenSSL's buffer holds one record).
        _session.UseHotPath();
        var data = RandomNumberGenerator.GetBytes(4 * 16 * 1024);
        await _client.WriteAsync(data);
        await _client.FlushAsync();
        Assert.True(_session.WaitForInput(5000));
        await Task.Delay(100);

        var buffer = new byte[256 * 1024];
        var read = _session.Read(buffer);

        Assert.Equal(data.Length, read);
        Assert.Equal(data, buffer[..read]);
    }

    [Fact]
    public async Task Shutdown_SendsCloseNotify_WhichTheClientReadsAsTheEnd()
    {
        await _session.SendAsync(new ReadOnlySequence<byte>("bye"u8.ToArray()));
        await _session.ShutdownAsync();

        Assert.Equal("bye", Encoding.ASCII.GetString(await ReadExactlyAsync(_client, 3)));
        Assert.Equal(0, await _client.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task TheClientsEnd_ReadsAsTheEnd_AndCallsAfterDetach_FailAsOnAClosedConnection()
    {
        await _client.ShutdownAsync();
        Assert.Equal(0, await _session.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        _session.Detach();

        Assert.Throws<ObjectDisposedException>(() => _session.Read(new byte[16]));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _session.SendAsync(new ReadOnlySequence<byte>(new byte[1])).AsTask());
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int length)
    {
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    private static (OpenSslServerContext, X509Certificate2) CreateServer()
    {
        var directory = Directory.CreateTempSubdirectory("porthole-openssl-");
        var certificate = SelfSignedCertificate.LoadOrCreate(Path.Combine(directory.FullName, "server.pfx"));
        return (OpenSslServerContext.Create(SslStreamCertificateContext.Create(certificate, additionalCertificates: null)), certificate);
    }
}
