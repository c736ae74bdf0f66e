using System.Net.WebSockets;
using Porthole.Tunnel.Frames;

namespace Porthole.Server.Relay;

/// <summary>
/// One leg of a session as the server accepted it. Over HTTP/1.1 the handshake is the server's own and the leg is
/// the connection's pipes (<see cref="Frames"/>), which the <see cref="FrameRelay"/> uses as they are; whatever needs
/// a <see cref="WebSocket"/> instead (the VNC and SSH handshakes the server runs, the web proxy, a session over
/// HTTP/2) gets one made over the same connection, after which the pipes are no longer the relay's.
/// </summary>
public sealed class DataLeg : IAsyncDisposable
{
    private readonly Stream? _upgraded;
    private readonly WebSocketCreationOptions? _options;
    private readonly FrameLeg? _frames;
    private WebSocket? _webSocket;

    private DataLeg(FrameLeg? frames, Stream? upgraded, WebSocketCreationOptions? options, WebSocket? webSocket)
    {
        (_frames, _upgraded, _options, _webSocket) = (frames, upgraded, options, webSocket);
    }

    /// <summary>
    /// A leg whose connection the frame relay may use. <paramref name="upgraded"/> is the upgraded request's stream, on
    /// which a WebSocket with <paramref name="options"/> is made if something else needs one; the leg owns it.
    /// </summary>
    public static DataLeg OverPipes(FrameLeg frames, Stream upgraded, WebSocketCreationOptions options) => new(frames, upgraded, options, null);

    /// <summary>A leg that is a WebSocket from the start (HTTP/2, or the frame relay switched off).</summary>
    public static DataLeg OverWebSocket(WebSocket webSocket) => new(null, null, null, webSocket);

    /// <summary>The leg as a stream on the agent's streams connection, when it is one rather than a connection of its own.</summary>
    public Tunnel.Streams.MuxStream? Stream => _webSocket as Tunnel.Streams.MuxStream;

    /// <summary>The connection's pipes for the frame relay; <c>null</c> once the leg is a WebSocket.</summary>
    public FrameLeg? Frames => _webSocket is null ? _frames : null;

    /// <summary>The leg as a WebSocket, made on first use; from then on the frame relay cannot take it.</summary>
    public async ValueTask<WebSocket> GetWebSocketAsync()
    {
        if (_webSocket is null)
        {
            await _frames!.StopAsync().ConfigureAwait(false);
            _webSocket = WebSocket.CreateFromStream(_upgraded!, _options!);
        }

        return _webSocket;
    }

    /// <summary>
    /// Ends the leg's own activity: the frame relay leg's pings and late control frames, and the upgraded stream (a
    /// WebSocket disposes it when there is one; without, it would stay registered with the silent-peer watch for good).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_frames is not null)
        {
            await _frames.StopAsync().ConfigureAwait(false);
        }

        if (_webSocket is not null)
        {
            _webSocket.Dispose();
        }
        else if (_upgraded is not null)
        {
            await _upgraded.DisposeAsync().ConfigureAwait(false);
        }
    }
}
