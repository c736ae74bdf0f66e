using System.Net.WebSockets;
using Porthole.Tunnel.Frames;

namespace Porthole.Server.Relay;

/// <summary>
/// One leg of a session as the server accepted it. Over HTTP/1.1 the handshake is the server's own and the leg is
/// the connection's pipes (<see cref="Frames"/>), which the <see cref="FrameRelay"/> uses as they are; whatever needs
/// a <see cref="WebSocket"/> instead (the VNC and SSH handshakes the server runs, the web proxy, a session over
/// HTTP/2) gets one made over the same connection, after which the pipes are no longer the relay's.
/// </summary>
public sealed class DataLeg : IDisposable
{
    private readonly Func<WebSocket>? _createWebSocket;
    private readonly FrameLeg? _frames;
    private WebSocket? _webSocket;

    private DataLeg(FrameLeg? frames, Func<WebSocket>? createWebSocket, WebSocket? webSocket)
    {
        (_frames, _createWebSocket, _webSocket) = (frames, createWebSocket, webSocket);
    }

    /// <summary>A leg whose connection the frame relay may use; <paramref name="createWebSocket"/> makes the WebSocket if something else needs one.</summary>
    public static DataLeg OverPipes(FrameLeg frames, Func<WebSocket> createWebSocket) => new(frames, createWebSocket, null);

    /// <summary>A leg that is a WebSocket from the start (HTTP/2, or the frame relay switched off).</summary>
    public static DataLeg OverWebSocket(WebSocket webSocket) => new(null, null, webSocket);

    /// <summary>The connection's pipes for the frame relay; <c>null</c> once the leg is a WebSocket.</summary>
    public FrameLeg? Frames => _webSocket is null ? _frames : null;

    /// <summary>The leg as a WebSocket, made on first use; from then on the frame relay cannot take it.</summary>
    public WebSocket WebSocket
    {
        get
        {
            if (_webSocket is null)
            {
                _frames!.Stop();
                _webSocket = _createWebSocket!();
            }

            return _webSocket;
        }
    }

    public void Dispose()
    {
        _frames?.Stop();
        _webSocket?.Dispose();
    }
}
