using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Porthole.Server.Hosting;

namespace Porthole.Server.Transport;

/// <summary>
/// Porthole's own Kestrel transport, for <see cref="PortholeEndPoint"/>s (the default where it runs;
/// <see cref="TransportChoice"/>): accepts TCP connections, does TLS itself and hands Kestrel decrypted
/// <see cref="PortholeConnection"/>s. Why it exists and how it differs from Kestrel's socket transport with its HTTPS
/// layer: docs/design/tls-data-plane.md.
/// </summary>
public sealed class PortholeTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly TransportShared _shared;
    private readonly SslStreamCertificateContext? _certificate;
    private readonly Tls.OpenSslServerContext? _openSsl;
    private readonly TimeSpan _handshakeTimeout;

    public PortholeTransportFactory(IOptions<PortholeServerOptions> options, TlsCertificateHolder certificate, IMemoryPoolFactory<byte>? memoryPools = null)
    {
        var settings = options.Value;
        var blockSize = settings.TransportBlockSize > 0 ? settings.TransportBlockSize : LargeBlockMemoryPoolFactory.DefaultBlockSize;
        var pool = (memoryPools ?? new LargeBlockMemoryPoolFactory(blockSize)).Create();
        var maximum = settings.TransportHotThreads > 0 ? settings.TransportHotThreads : 4 * Environment.ProcessorCount;
        _shared = new TransportShared(pool, blockSize, new HotThreads(maximum), new Reactor());
        _certificate = certificate.Certificate is { } cert ? SslStreamCertificateContext.Create(cert, additionalCertificates: null) : null;
        _openSsl = _certificate is null ? null : CreateOpenSsl(_certificate, settings.TransportTls);
        _handshakeTimeout = settings.TlsHandshakeTimeout;
    }

    /// <summary>
    /// The OpenSSL context, when <c>Porthole:TransportTls</c> asks for OpenSSL and it can run: <c>OpenSsl</c> insists
    /// (the server does not start without it); <c>Auto</c> takes it where libssl 3 loads and has every call the
    /// transport makes (not an older OpenSSL under the same file name, say), and <see cref="SslStream"/> otherwise.
    /// </summary>
    private static Tls.OpenSslServerContext? CreateOpenSsl(SslStreamCertificateContext certificate, TransportTls setting)
    {
        if (setting == TransportTls.SslStream || (setting == TransportTls.Auto && !Tls.OpenSslServerContext.IsSupported))
        {
            return null;
        }

        if (!Tls.OpenSslServerContext.IsSupported)
        {
            throw new InvalidOperationException("Porthole:TransportTls=OpenSsl needs libssl.so.3, which cannot be loaded here; use Auto or SslStream.");
        }

        try
        {
            return Tls.OpenSslServerContext.Create(certificate);
        }
        catch (EntryPointNotFoundException) when (setting == TransportTls.Auto)
        {
            return null;
        }
    }

    /// <summary>Who does TLS on this transport's TLS endpoints: "OpenSSL" or "SslStream".</summary>
    public string TlsLibrary => _openSsl is null ? "SslStream" : "OpenSSL";

    public bool CanBind(EndPoint endpoint) => endpoint is PortholeEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not PortholeEndPoint porthole)
        {
            throw new NotSupportedException($"{endpoint} is not an endpoint of the Porthole transport");
        }

        if (porthole.Tls && _certificate is null)
        {
            throw new InvalidOperationException($"{porthole} needs the server's TLS certificate, and there is none");
        }

        var socket = new Socket(porthole.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (porthole.Address.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(porthole.Address);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var bound = new PortholeEndPoint((IPEndPoint)socket.LocalEndPoint!, porthole.Tls);
        var listener = new Listener(socket, bound, porthole.Tls ? new ConnectionTls(ServerOptions, _openSsl) : null, this);
        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    private SslServerAuthenticationOptions ServerOptions => new()
    {
        ServerCertificateContext = _certificate,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,

        // As Kestrel offers them for an endpoint with HTTP/1.1 and HTTP/2; Kestrel picks the protocol from the result.
        ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
    };

    private sealed class Listener : IConnectionListener
    {
        private readonly Socket _socket;
        private readonly ConnectionTls? _tls;
        private readonly PortholeTransportFactory _factory;
        private readonly Channel<PortholeConnection> _ready = Channel.CreateUnbounded<PortholeConnection>(new UnboundedChannelOptions { SingleReader = false });
        private readonly Task _accepting;

        public Listener(Socket socket, PortholeEndPoint endpoint, ConnectionTls? tls, PortholeTransportFactory factory)
        {
            _socket = socket;
            EndPoint = endpoint;
            _tls = tls;
            _factory = factory;
            _accepting = AcceptAsync();
        }

        public EndPoint EndPoint { get; }

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        /// <summary>Accepts and handshakes apart from Kestrel's accept loop, so a slow handshake holds up no other connection.</summary>
        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var accepted = await _socket.AcceptAsync().ConfigureAwait(false);
                    accepted.NoDelay = true;
                    _ = StartAsync(accepted);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Unbound.
            }
            finally
            {
                _ready.Writer.TryComplete();
            }
        }

        private async Task StartAsync(Socket accepted)
        {
            var connection = new PortholeConnection(accepted, _factory._shared);
            if (await connection.StartAsync(_tls, _factory._handshakeTimeout).ConfigureAwait(false) && !_ready.Writer.TryWrite(connection))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _socket.Dispose();
            await _accepting.ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            _socket.Dispose();
            await _accepting.ConfigureAwait(false);
            while (_ready.Reader.TryRead(out var connection))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
