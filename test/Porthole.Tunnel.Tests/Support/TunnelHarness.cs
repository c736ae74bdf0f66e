using System.Net.Sockets;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>
/// A whole session without a server: client app ⇄ [StreamTunnel "client"] ⇄ WebSocket ⇄ [StreamTunnel "target"] ⇄ target app,
/// every hop a real loopback TCP connection. The test plays the two apps.
/// </summary>
internal sealed class TunnelHarness : IDisposable
{
    private readonly SocketPair _client;
    private readonly SocketPair _target;
    private readonly WebSocketPair _webSocket;

    private TunnelHarness(SocketPair client, SocketPair target, WebSocketPair webSocket, CancellationToken clientToken, CancellationToken targetToken)
    {
        _client = client;
        _target = target;
        _webSocket = webSocket;
        ClientTunnel = Run(webSocket.Client, client, "client", clientToken);
        TargetTunnel = Run(webSocket.Server, target, "target", targetToken);
    }

    /// <summary>The client application's socket (e.g. what ssh would hold).</summary>
    public Socket ClientApp => _client.Left;

    public NetworkStream ClientAppStream => _client.LeftStream;

    /// <summary>The target's socket (e.g. what sshd would hold).</summary>
    public Socket TargetApp => _target.Left;

    public NetworkStream TargetAppStream => _target.LeftStream;

    public Task<TunnelResult> ClientTunnel { get; }

    public Task<TunnelResult> TargetTunnel { get; }

    public WebSocketPair WebSocket => _webSocket;

    public static async Task<TunnelHarness> StartAsync(CancellationToken clientToken = default, CancellationToken targetToken = default)
    {
        var client = await SocketPair.CreateAsync();
        var target = await SocketPair.CreateAsync();
        var webSocket = await WebSocketPair.CreateAsync();
        return new TunnelHarness(client, target, webSocket, clientToken, targetToken);
    }

    public void Dispose()
    {
        _webSocket.Dispose();
        _client.Dispose();
        _target.Dispose();
    }

    private static Task<TunnelResult> Run(System.Net.WebSockets.WebSocket webSocket, SocketPair local, string name, CancellationToken cancellationToken) =>
        Task.Run(() => StreamTunnel.RunAsync(webSocket, local.RightStream, local.RightStream, () => local.Right.Shutdown(SocketShutdown.Send), name, cancellationToken: cancellationToken));
}
