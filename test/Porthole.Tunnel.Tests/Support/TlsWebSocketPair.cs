using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Porthole.Tunnel.Frames;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>
/// Two ends of one real WebSocket over TLS on loopback TCP, like a leg of a <c>wss://</c> session: the server end
/// authenticates with a throw-away ECDSA certificate, the client end accepts it. No HTTP handshake.
/// </summary>
internal sealed class TlsWebSocketPair : IDisposable
{
    /// <summary>The throw-away server certificate, shared by every TLS test of this project.</summary>
    internal static readonly Lazy<X509Certificate2> Certificate = new(() => TestCertificates.SelfSigned("CN=localhost"));
    private readonly SocketPair _sockets;
    private readonly SslStream _serverTls;
    private readonly SslStream _clientTls;
    private FrameLeg? _leg;

    private TlsWebSocketPair(SocketPair sockets, SslStream serverTls, SslStream clientTls)
    {
        _sockets = sockets;
        _serverTls = serverTls;
        _clientTls = clientTls;
        Server = WebSocket.CreateFromStream(serverTls, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        Client = WebSocket.CreateFromStream(clientTls, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
    }

    public WebSocket Server { get; }

    public WebSocket Client { get; }

    /// <summary>The server end as the frame relay's leg, over pipes on the <c>SslStream</c> as Kestrel presents it.</summary>
    public FrameLeg ServerLeg(string name) => _leg ??= Support.ServerLeg.Over(_serverTls, name);

    public static async Task<TlsWebSocketPair> CreateAsync()
    {
        var sockets = await SocketPair.CreateAsync();
        var serverTls = new SslStream(sockets.LeftStream, leaveInnerStreamOpen: true);
        var clientTls = new SslStream(sockets.RightStream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await Task.WhenAll(
            serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate.Value }),
            clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" })).WaitAsync(Timeouts.Test);
        return new TlsWebSocketPair(sockets, serverTls, clientTls);
    }


    public void Dispose()
    {
        _leg?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Server.Dispose();
        Client.Dispose();
        _serverTls.Dispose();
        _clientTls.Dispose();
        _sockets.Dispose();
    }
}
