using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Relay;

/// <summary>
/// What the peers of a relayed session see, for both of the server's relays: it holds the server ends of two
/// WebSockets (as WebSocket objects, or as the frame relay's pipes); the tests play the client and the agent with real
/// WebSockets on the other ends.
/// </summary>
public sealed class WebSocketRelayTests
{
    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_ForwardsMessagesAndFinUnchangedBothWays(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(kind, client, agent, bufferSize: 4096);

        var upload = RandomNumberGenerator.GetBytes(100_000);
        var download = RandomNumberGenerator.GetBytes(5_000);
        await client.Client.SendBinaryAsync("hello"u8.ToArray());
        await client.Client.SendBinaryAsync(upload);
        await client.Client.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        await agent.Client.SendBinaryAsync(download);
        await agent.Client.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        Assert.Equal(Encoding.ASCII.GetBytes("hello").Concat(upload), await ReceiveUntilFinAsync(agent.Client).WaitAsync(Timeouts.Test));
        Assert.Equal(download, await ReceiveUntilFinAsync(client.Client).WaitAsync(Timeouts.Test));

        // Both sent and received fin: the client closes, the agent answers the close.
        var clientClose = client.Client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var (type, _) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, agent.Client.CloseStatus);
        Assert.Equal("done", agent.Client.CloseStatusDescription);
        await agent.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await clientClose.WaitAsync(Timeouts.Test);

        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.PeerClosed, result.ClientToAgent.End);
        Assert.Equal(PumpEnd.PeerClosed, result.AgentToClient.End);
        Assert.Equal(5 + upload.Length + DataFrames.Fin.Length, result.ClientToAgent.Bytes);
        Assert.Equal(download.Length + DataFrames.Fin.Length, result.AgentToClient.Bytes);
        Assert.Equal(WebSocketState.Closed, client.Client.State);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_KeepsFragmentedMessagesIntact(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(kind, client, agent, bufferSize: 1024);

        await client.Client.SendBinaryAsync(new byte[3000], endOfMessage: false);
        await client.Client.SendBinaryAsync([1, 2, 3], endOfMessage: true);
        await client.Client.SendTextAsync("fin");

        var (type, payload) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(new byte[3000].Concat(new byte[] { 1, 2, 3 }), payload);
        var (finType, fin) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Text, finType);
        Assert.True(DataFrames.IsFin(fin));

        await WebSocketPair.AbortBothAsync(client, agent, relay);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_PassesCloseStatusAndDescriptionThrough(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(kind, client, agent);
        const string Reason = "target connection failed: connection reset by peer";

        await agent.Client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, Reason, CancellationToken.None);

        var (type, _) = await client.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.Client.CloseStatus);
        Assert.Equal(Reason, client.Client.CloseStatusDescription);

        // The client acknowledges; the acknowledgement reaches the agent and the relay ends.
        await client.Client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, Reason, CancellationToken.None);
        var (agentType, _) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, agentType);
        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, 0, Reason), result.AgentToClient);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_WhenAgentVanishes_ClosesClientWithAgentDisconnected(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(kind, client, agent);

        agent.AbortClient();

        var (type, _) = await client.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.Client.CloseStatus);
        Assert.StartsWith("agent disconnected", client.Client.CloseStatusDescription, StringComparison.Ordinal);
        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Failed, result.AgentToClient.End);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_WhenClientVanishes_ClosesAgentWithClientDisconnected(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(kind, client, agent);

        client.AbortClient();

        var (type, _) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, agent.Client.CloseStatus);
        Assert.StartsWith("client disconnected", agent.Client.CloseStatusDescription, StringComparison.Ordinal);
        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Failed, result.ClientToAgent.End);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_WhenSendingToAgentFails_ClosesClientWithAgentDisconnected(RelayKind kind)
    {
        // The agent's connection breaks while the client uploads: the relay's send to the agent fails before its
        // pending receive from the agent notices. The agent is the side that vanished, so the client must be told.
        BreakableStream? agentConnection = null;
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync(wrapServerStream: s => agentConnection = new BreakableStream(s));
        var relay = WebSocketPair.Relay(kind, client, agent);
        await client.Client.SendBinaryAsync("before"u8.ToArray());
        Assert.Equal("before", Encoding.ASCII.GetString((await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test)).Payload));

        agentConnection!.BreakWrites();
        await client.Client.SendBinaryAsync("after"u8.ToArray());

        var result = await relay.WaitAsync(Timeouts.Test);
        var received = client.Client.ReceiveMessageAsync();
        var closed = await Task.WhenAny(received, Task.Delay(Timeouts.Short)) == received && received.IsCompletedSuccessfully;
        Assert.True(closed, $"the client got no close frame; relay result: {result}");
        Assert.Equal(WebSocketMessageType.Close, (await received).Type);
        Assert.StartsWith("agent disconnected", client.Client.CloseStatusDescription, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_WhenCancelled_Ends(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        using var cancel = new CancellationTokenSource();
        var relay = WebSocketPair.Relay(kind, client, agent, cancellationToken: cancel.Token);

        await cancel.CancelAsync();

        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Canceled, result.ClientToAgent.End);
        Assert.Equal(PumpEnd.Canceled, result.AgentToClient.End);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_WhenTheLifetimeEnds_ClosesBothSidesWithTheReason(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        using var lifetime = new SessionLifetime(TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeProvider.System);
        var relay = WebSocketPair.Relay(kind, client, agent, lifetime: lifetime);
        await client.Client.SendBinaryAsync("before"u8.ToArray());
        await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);

        lifetime.End("terminated by admin");

        foreach (var side in new[] { client.Client, agent.Client })
        {
            var (type, _) = await side.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
            Assert.Equal(WebSocketMessageType.Close, type);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, side.CloseStatus);
            Assert.Equal("terminated by admin", side.CloseStatusDescription);
            await side.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal("terminated by admin", result.EndReason);
        Assert.Equal(new PumpResult(PumpEnd.Canceled, 6, "terminated by admin"), result.ClientToAgent);
    }

    [Theory]
    [InlineData(RelayKind.WebSocketObjects)]
    [InlineData(RelayKind.Frames)]
    public async Task RunAsync_WhenTerminatedWhileACloseFrameWaitsForItsAnswer_StillEnds(RelayKind kind)
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        using var lifetime = new SessionLifetime(TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeProvider.System);
        var relay = WebSocketPair.Relay(kind, client, agent, lifetime: lifetime);

        // The client closes; the agent gets the close frame and never answers it, but its connection stays up.
        await client.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        var (type, _) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);

        lifetime.End("terminated by admin");

        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal("terminated by admin", result.EndReason);
    }

    private static async Task<byte[]> ReceiveUntilFinAsync(WebSocket webSocket)
    {
        using var payload = new MemoryStream();
        while (true)
        {
            var (type, bytes) = await webSocket.ReceiveMessageAsync();
            if (type == WebSocketMessageType.Text && DataFrames.IsFin(bytes))
            {
                return payload.ToArray();
            }

            Assert.Equal(WebSocketMessageType.Binary, type);
            payload.Write(bytes);
        }
    }
}
