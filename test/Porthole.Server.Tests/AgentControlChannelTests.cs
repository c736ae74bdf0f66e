using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Porthole.Protocol.Control;
using Porthole.Server.Agents;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Tests;

/// <summary>
/// The server's end of an agent's control channel: presence lists it before the welcome goes out, so an agent that
/// has read its welcome is never "offline" to a client — and whatever is sent meanwhile must reach the agent after
/// the welcome, which the agent reads first.
/// </summary>
public sealed class AgentControlChannelTests
{
    [Fact]
    public async Task AnOpenSentBeforeTheWelcome_ReachesTheAgentAfterIt()
    {
        var (server, agent) = await LoopbackWebSocketsAsync();
        using var serverControl = new ControlChannel(server);
        using var agentControl = new ControlChannel(agent);
        using var channel = new AgentControlChannel(serverControl, "device-1", "1.0.0", remoteAccessEnabled: true, DateTimeOffset.UtcNow, streams: true);

        var open = channel.SendAsync(new OpenSessionMessage("s1", "key", "127.0.0.1", 22, 1000), CancellationToken.None);
        await Task.Delay(200);
        Assert.False(open.IsCompleted, "an open went out before the welcome");

        await channel.WelcomeAsync(new WelcomeMessage(ControlProtocol.MaxVersion, "device-1", "gw"), CancellationToken.None);
        await open.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.IsType<WelcomeMessage>((await agentControl.ReceiveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10))).Message);
        Assert.Equal("s1", Assert.IsType<OpenSessionMessage>((await agentControl.ReceiveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10))).Message).SessionId);
    }

    [Fact]
    public async Task AChannelThatEndsBeforeItsWelcome_FailsWhatWaitsToBeSent()
    {
        var (server, agent) = await LoopbackWebSocketsAsync();
        using var serverControl = new ControlChannel(server);
        using var agentSide = agent;
        var channel = new AgentControlChannel(serverControl, "device-1", "1.0.0", remoteAccessEnabled: true, DateTimeOffset.UtcNow);

        var open = channel.SendAsync(new OpenSessionMessage("s1", "key", "127.0.0.1", 22, 1000), CancellationToken.None);
        channel.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => open.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task<(WebSocket Server, WebSocket Agent)> LoopbackWebSocketsAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        var accepting = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var accepted = await accepting;
        var options = (bool isServer) => new WebSocketCreationOptions { IsServer = isServer, KeepAliveInterval = TimeSpan.Zero };
        return (WebSocket.CreateFromStream(accepted.GetStream(), options(true)), WebSocket.CreateFromStream(client.GetStream(), options(false)));
    }
}
