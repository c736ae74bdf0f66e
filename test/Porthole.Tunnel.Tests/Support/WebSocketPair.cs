using System.Net.WebSockets;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>
/// Two ends of one real WebSocket over loopback TCP, built without an HTTP server: the handshake is skipped and
/// each socket's stream is wrapped directly (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>).
/// </summary>
internal sealed class WebSocketPair : IDisposable
{
    private readonly SocketPair _sockets;
    private readonly Stream _serverStream;
    private FrameLeg? _leg;

    private WebSocketPair(SocketPair sockets, Stream serverStream, Stream clientStream)
    {
        _sockets = sockets;
        _serverStream = serverStream;
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

    /// <summary>The server end as the frame relay's leg (made once; the <see cref="Server"/> WebSocket is then left unused).</summary>
    public FrameLeg ServerLeg(string name, KeepAliveSettings? keepAlive = null, TimeProvider? time = null) =>
        _leg ??= Support.ServerLeg.Over(_serverStream, name, keepAlive, time);

    /// <summary>Starts the relay of <paramref name="kind"/> between the server ends of <paramref name="client"/> and <paramref name="agent"/>.</summary>
    public static Task<RelayResult> Relay(
        RelayKind kind, WebSocketPair client, WebSocketPair agent, int bufferSize = DataFrames.DefaultBufferSize, SessionLifetime? lifetime = null, CancellationToken cancellationToken = default) =>
        kind == RelayKind.Frames
            ? FrameRelay.RunAsync(client.ServerLeg("client"), agent.ServerLeg("agent"), lifetime, cancellationToken)
            : WebSocketRelay.RunAsync(client.Server, agent.Server, bufferSize, lifetime, cancellationToken);

    /// <summary>Kills the client end without a close frame, like a process that died or a cable that was pulled.</summary>
    public void AbortClient()
    {
        Client.Abort();
        _sockets.Right.Close(0);
    }

    /// <summary>Ends a relay test that leaves its session open: both clients vanish, and the relay must then finish.</summary>
    public static async Task AbortBothAsync(WebSocketPair client, WebSocketPair agent, Task relay)
    {
        client.AbortClient();
        agent.AbortClient();
        await relay.WaitAsync(Timeouts.Test);
    }

    public void Dispose()
    {
        _leg?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Server.Dispose();
        Client.Dispose();
        _sockets.Dispose();
    }
}
