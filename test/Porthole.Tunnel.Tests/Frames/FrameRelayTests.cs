using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Frames;

/// <summary>
/// What only the frame relay does itself, seen from the wire: answering pings, keeping its peers alive and giving up
/// silent ones, refusing broken frames, and forwarding whole frames whole but huge ones as they arrive. What both
/// relays share is specified in <c>WebSocketRelayTests</c>. Some tests play a peer with raw bytes on the socket.
/// </summary>
public sealed class FrameRelayTests
{
    [Fact]
    public async Task Ping_IsAnsweredOnItsOwnLeg_AndNotForwarded()
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(RelayKind.Frames, client, agent);
        var raw = client.Sockets.RightStream;

        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Ping, "are you there"u8));
        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Binary, "after the ping"u8));

        Assert.Equal(RawFrames.Unmasked(FrameOpcode.Pong, "are you there"u8), await ReadExactlyAsync(raw, 2 + 13));
        var (type, payload) = await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal("after the ping", Encoding.ASCII.GetString(payload));

        await WebSocketPair.AbortBothAsync(client, agent, relay);
    }

    [Fact]
    public async Task PingFlood_FromAPeerThatDoesNotRead_IsAnsweredWithFewerPongs_TheLastForTheLatestPing()
    {
        // Small socket buffers: the pongs back up after a few kilobytes, as towards a peer that floods and never reads.
        using var client = await WebSocketPair.CreateAsync(socketBufferSize: 4096);
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(RelayKind.Frames, client, agent);
        var raw = client.Sockets.RightStream;
        const int Pings = 20_000;

        // Every ping in one write; the client reads nothing until the data behind them has crossed.
        var flood = new MemoryStream();
        for (var i = 0; i < Pings; i++)
        {
            flood.Write(RawFrames.Masked(FrameOpcode.Ping, BitConverter.GetBytes(i)));
        }

        flood.Write(RawFrames.Masked(FrameOpcode.Binary, "after the flood"u8));
        await raw.WriteAsync(flood.ToArray());
        Assert.Equal("after the flood", Encoding.ASCII.GetString((await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test)).Payload));

        // RFC 6455 section 5.5.3: a pong may answer only the latest ping. One is pending at a time, so a flood costs
        // the server one pong in flight, not one task per ping; the latest ping is always answered.
        var pongs = new List<int>();
        while (pongs.Count == 0 || pongs[^1] != Pings - 1)
        {
            var pong = await ReadExactlyAsync(raw, 2 + 4);
            Assert.Equal(0x8A, pong[0]);
            pongs.Add(BitConverter.ToInt32(pong, 2));
        }

        Assert.True(pongs.Count < Pings, $"{pongs.Count} pongs for {Pings} pings");
        Assert.Equal(pongs.Order(), pongs);
        await WebSocketPair.AbortBothAsync(client, agent, relay);
    }

    [Fact]
    public async Task CloseFrame_WithAStatusThatMayNotBeSent_ClosesItsSenderWithProtocolError()
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(RelayKind.Frames, client, agent);
        var raw = client.Sockets.RightStream;

        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Close, [0x03, 0xED])); // 1005: "no status", never on the wire

        await AssertProtocolErrorAsync(raw, agent.Client, "close status 1005 may not be sent");
        await relay.WaitAsync(Timeouts.Test);
    }

    [Fact]
    public async Task ForeignCancellationOfARead_DoesNotEndTheSession()
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var clientLeg = client.ServerLeg("client");
        var relay = FrameRelay.RunAsync(clientLeg, agent.ServerLeg("agent"));
        await Task.Delay(100);

        // What Kestrel does to every connection's pending read when the server begins to stop.
        clientLeg.Input.CancelPendingRead();
        await client.Client.SendBinaryAsync("still relayed"u8.ToArray());

        Assert.Equal("still relayed", Encoding.ASCII.GetString((await agent.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test)).Payload));
        Assert.False(relay.IsCompleted);
        await WebSocketPair.AbortBothAsync(client, agent, relay);
    }

    [Fact]
    public async Task UnmaskedFrame_ClosesItsSenderWithProtocolError_AndTellsTheOtherSide()
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(RelayKind.Frames, client, agent);
        var raw = client.Sockets.RightStream;

        await raw.WriteAsync(RawFrames.Unmasked(FrameOpcode.Binary, "not masked"u8));

        await AssertProtocolErrorAsync(raw, agent.Client, "unmasked frame from a client");
        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal(PumpEnd.Failed, result.ClientToAgent.End);
    }

    [Fact]
    public async Task SilentPeer_IsPingedEveryInterval_AndGivenUpAfterTheLimit()
    {
        var time = new FakeTimeProvider();
        var keepAlive = new KeepAliveSettings(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15));
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = FrameRelay.RunAsync(client.ServerLeg("client", keepAlive, time), agent.ServerLeg("agent", keepAlive, time));
        var silentAgent = agent.Sockets.RightStream;

        // Past the interval both legs are pinged. The agent reads its ping and never answers; the client talks.
        time.Advance(TimeSpan.FromSeconds(16));
        var ping = await ReadExactlyAsync(silentAgent, 2);
        Assert.Equal(0x89, ping[0]);
        await ReadExactlyAsync(silentAgent, ping[1]);
        await client.Client.SendBinaryAsync("still here"u8.ToArray());
        Assert.Equal(RawFrames.Unmasked(FrameOpcode.Binary, "still here"u8), await ReadExactlyAsync(silentAgent, 2 + 10));

        // 31 s after the agent last sent anything it is gone; the client, heard 15 s ago, is not.
        time.Advance(TimeSpan.FromSeconds(15));
        var (type, _) = await client.Client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.Client.CloseStatus);
        Assert.Equal("agent disconnected: no answer to keep-alive pings for 30 s", client.Client.CloseStatusDescription);
        await client.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        var result = await relay.WaitAsync(Timeouts.Test);
        Assert.Equal(new PumpResult(PumpEnd.Failed, 0, "agent: no answer to keep-alive pings for 30 s", PumpSide.Source), result.AgentToClient);
    }

    [Fact]
    public async Task PeerThatPingsItself_IsAnsweredButNotPinged_UntilItGoesQuiet()
    {
        var time = new FakeTimeProvider();
        var keepAlive = new KeepAliveSettings(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15));
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = FrameRelay.RunAsync(client.ServerLeg("client", keepAlive, time), agent.ServerLeg("agent", keepAlive, time));
        var agentPeer = agent.Sockets.RightStream;

        // The agent pings at 10 s (as its WebSocket does every interval) and gets its pong.
        time.Advance(TimeSpan.FromSeconds(10));
        await agentPeer.WriteAsync(RawFrames.Masked(FrameOpcode.Ping, "agent"u8));
        Assert.Equal(RawFrames.Unmasked(FrameOpcode.Pong, "agent"u8), await ReadExactlyAsync(agentPeer, 2 + 5));

        // At 16 s the agent has heard from the server and the server from the agent within the interval: no ping for
        // it (the quiet client leg is pinged, as SilentPeer_IsPingedEveryInterval_AndGivenUpAfterTheLimit shows).
        time.Advance(TimeSpan.FromSeconds(6));
        var first = new byte[1];
        var read = agentPeer.ReadAsync(first).AsTask();
        await Task.Delay(300);
        Assert.False(read.IsCompleted, "the agent, which pings on its own, was pinged");

        // Quiet for 15 s since its ping, the agent is pinged.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await read.WaitAsync(Timeouts.Short));
        Assert.Equal(0x89, first[0]);
        await WebSocketPair.AbortBothAsync(client, agent, relay);
    }

    [Fact]
    public async Task FrameUpToTheLimit_LeavesWhole_EvenWhenItArrivesInPieces()
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(RelayKind.Frames, client, agent);
        var payload = new byte[50_000];
        Random.Shared.NextBytes(payload);
        var frame = RawFrames.Masked(FrameOpcode.Binary, payload);
        var raw = client.Sockets.RightStream;

        await raw.WriteAsync(frame.AsMemory(0, 20_000));
        await Task.Delay(200);
        await raw.WriteAsync(frame.AsMemory(20_000));

        // One receive into a large buffer returns the whole message: it crossed the relay as one frame.
        var buffer = new byte[100_000];
        var received = await agent.Client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Timeouts.Test);
        Assert.True(received.EndOfMessage);
        Assert.Equal(payload, buffer[..received.Count]);

        await WebSocketPair.AbortBothAsync(client, agent, relay);
    }

    [Fact]
    public async Task FrameOverTheLimit_IsForwardedWhileItArrives()
    {
        using var client = await WebSocketPair.CreateAsync();
        using var agent = await WebSocketPair.CreateAsync();
        var relay = WebSocketPair.Relay(RelayKind.Frames, client, agent);
        var payload = new byte[FrameRelay.WholeFrameLimit * 4];
        Random.Shared.NextBytes(payload);
        var frame = RawFrames.Masked(FrameOpcode.Binary, payload);
        var raw = client.Sockets.RightStream;

        // Only the first 100 000 bytes are sent: they arrive without the rest of the frame.
        await raw.WriteAsync(frame.AsMemory(0, 100_000));
        var received = new MemoryStream();
        var buffer = new byte[payload.Length];
        while (received.Length < 100_000 - 14)
        {
            var part = await agent.Client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Timeouts.Test);
            Assert.False(part.EndOfMessage);
            received.Write(buffer, 0, part.Count);
        }

        await raw.WriteAsync(frame.AsMemory(100_000));
        while (true)
        {
            var part = await agent.Client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Timeouts.Test);
            received.Write(buffer, 0, part.Count);
            if (part.EndOfMessage)
            {
                break;
            }
        }

        Assert.Equal(payload, received.ToArray());
        await WebSocketPair.AbortBothAsync(client, agent, relay);
    }

    /// <summary>
    /// The raw client got a 1002 close frame saying <paramref name="why"/>; the agent got a 1001 naming the client and
    /// the reason, and answers it.
    /// </summary>
    private static async Task AssertProtocolErrorAsync(Stream raw, WebSocket agent, string why)
    {
        var close = await ReadExactlyAsync(raw, 2);
        Assert.Equal(0x88, close[0]);
        var closePayload = await ReadExactlyAsync(raw, close[1]);
        Assert.Equal((int)WebSocketCloseStatus.ProtocolError, BinaryPrimitives.ReadUInt16BigEndian(closePayload));
        Assert.Equal(why, Encoding.UTF8.GetString(closePayload.AsSpan(2)));

        var (type, _) = await agent.ReceiveMessageAsync().WaitAsync(Timeouts.Test);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, agent.CloseStatus);
        Assert.Equal($"client disconnected: invalid WebSocket frame: {why}", agent.CloseStatusDescription);
        await agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var bytes = new byte[count];
        await stream.ReadExactlyAsync(bytes).AsTask().WaitAsync(Timeouts.Test);
        return bytes;
    }
}
