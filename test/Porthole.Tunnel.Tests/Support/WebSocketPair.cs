using System.Net.WebSockets;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>
/// Two ends of one real WebSocket over loopback TCP, built without an HTTP server: the handshake is skipped and
/// each socket's stream is wrapped directly (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>).
/// </summary>
internal sealed class WebSocketPair : IDisposable
{
    private readonly SocketPair _sockets;

    private WebSocketPair(SocketPair sockets, Stream serverStream, Stream clientStream)
    {
        _sockets = sockets;
        Server = WebSocket.CreateFromStream(serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        Client = WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
    }

    public WebSocket Server { get; }

    public WebSocket Client { get; }

    public SocketPair Sockets => _sockets;

    public static async Task<WebSocketPair> CreateAsync(int? socketBufferSize = null, Func<Stream, Stream>? wrapServerStream = null)
    {
        var sockets = await SocketPair.CreateAsync(socketBufferSize);
        var serverStream = wrapServerStream is null ? sockets.LeftStream : wrapServerStream(sockets.LeftStream);
        return new WebSocketPair(sockets, serverStream, sockets.RightStream);
    }

    /// <summary>Kills the client end without a close frame, like a process that died or a cable that was pulled.</summary>
    public void AbortClient()
    {
        Client.Abort();
        _sockets.Right.Close(0);
    }

    public void Dispose()
    {
        Server.Dispose();
        Client.Dispose();
        _sockets.Dispose();
    }
}
