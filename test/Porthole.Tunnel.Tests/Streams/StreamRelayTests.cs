using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// The server's relay between a client's leg and a stream of the agent's streams connection (<see cref="StreamRelay"/>),
/// seen from both ends: what <c>WebSocketRelayTests</c> asks of the other two relays (bytes and <c>fin</c> in order,
/// closes passed on with status and reason, a vanished side reported to the other, an expired session closed on both,
/// broken client frames refused), and what per-stream credit adds (docs/design/agent-streams.md, "Flow control"): a
/// stalled session does not stall another on the same connection, and a client is read no faster than its agent
/// takes the bytes. Every connection is a real WebSocket over loopback TCP (<see cref="StreamRelayHarness"/>).
/// </summary>
public sealed class StreamRelayTests
{
    [Fact]
    public async Task RunAsync_ForwardsBytesAndFinInOrderBothWays_EachDirectionEndingOnItsOwn()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        var upload = RandomNumberGenerator.GetBytes(300_000);
        var download = RandomNumberGenerator.GetBytes(5_000);

        await session.Client.SendBinaryAsync("hello"u8.ToArray());
        await session.Client.SendBinaryAsync(upload);
        await SendFinAsync(session.Client);
        Assert.Equal("hello"u8.ToArray().Concat(upload), await ReceiveUntilFinAsync(session.Agent).WaitAsync(Timeouts.Short));

        // The client has half-closed; the agent's direction still carries bytes, and then its own fin.
        await session.Agent.SendBinaryAsync(download);
        await SendFinAsync(session.Agent);
        Assert.Equal(download, await ReceiveUntilFinAsync(session.Client).WaitAsync(Timeouts.Short));

        await session.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await ReceiveCloseAsync(session.Agent);
        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done too", CancellationToken.None);
        await ReceiveCloseAsync(session.Client);

        // The counts are the session's bytes: payloads only, not fin.
        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, 5 + upload.Length, "done"), result.ClientToAgent);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, download.Length, "done too"), result.AgentToClient);
    }

    [Fact]
    public async Task RunAsync_CarriesLargeTransfersBothWaysAtOnce_Intact()
    {
        const int Bytes = 32 * 1024 * 1024;
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();

        // Messages of random sizes up to 300 000 bytes: many of the client's frames are over a stream frame's 128 KiB
        // (and some over 256 KiB), so the relay cuts them into several stream frames; the receivers hash until fin.
        await Task.WhenAll(
            MuxStreamTests.TransferAsync(session.Client, session.Agent, seed: 1, maxRead: 200_000, bytes: Bytes),
            MuxStreamTests.TransferAsync(session.Agent, session.Client, seed: 2, maxRead: 200_000, bytes: Bytes)).WaitAsync(Timeouts.Test);

        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await ReceiveCloseAsync(session.Client);
        await session.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await ReceiveCloseAsync(session.Agent);
        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, Bytes, "done"), result.ClientToAgent);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, Bytes, "done"), result.AgentToClient);
    }

    [Fact]
    public async Task RunAsync_KeepsFragmentedClientMessagesIntact()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        byte[][] fragments = [RandomNumberGenerator.GetBytes(3000), RandomNumberGenerator.GetBytes(300_000), [1, 2, 3]];

        // A binary frame without FIN and two continuations (one larger than a stream frame), then a whole message.
        await session.Client.SendBinaryAsync(fragments[0], endOfMessage: false);
        await session.Client.SendBinaryAsync(fragments[1], endOfMessage: false);
        await session.Client.SendBinaryAsync(fragments[2], endOfMessage: true);
        await session.Client.SendBinaryAsync("whole"u8.ToArray());
        await SendFinAsync(session.Client);

        Assert.Equal(fragments.SelectMany(f => f).Concat("whole"u8.ToArray()), await ReceiveUntilFinAsync(session.Agent).WaitAsync(Timeouts.Short));
        Assert.False(session.Relay.IsCompleted);
    }

    [Fact]
    public async Task ClientClose_ReachesTheAgentWithItsStatusAndReason_AndTheAgentsAnswerReachesTheClient()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();

        await session.Client.CloseOutputAsync((WebSocketCloseStatus)4000, "closed by the user", CancellationToken.None);

        await ReceiveCloseAsync(session.Agent);
        Assert.Equal((WebSocketCloseStatus)4000, session.Agent.CloseStatus);
        Assert.Equal("closed by the user", session.Agent.CloseStatusDescription);
        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "target closed", CancellationToken.None);
        await ReceiveCloseAsync(session.Client);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, session.Client.CloseStatus);
        Assert.Equal("target closed", session.Client.CloseStatusDescription);
        Assert.Equal(WebSocketState.Closed, session.Client.State);

        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, 0, "closed by the user"), result.ClientToAgent);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, 0, "target closed"), result.AgentToClient);
        Assert.Equal("closed by the user", result.EndReason);

        // Closed both ways, the stream is forgotten on both ends of the connection, which lives on.
        Assert.Equal(WebSocketState.Closed, session.Agent.State);
        Assert.Equal(0, harness.ServerMux.Count);
        Assert.Equal(0, harness.AgentMux.Count);
        Assert.False(harness.ServerMux.IsEnded);
    }

    [Fact]
    public async Task AgentClose_ReachesTheClientWithItsStatusAndReason_AndTheClientsAnswerReachesTheAgent()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        const string Reason = "target connection failed: connection reset by peer";

        await session.Agent.SendBinaryAsync("last words"u8.ToArray());
        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, Reason, CancellationToken.None);

        // Bytes sent before the close arrive before it.
        Assert.Equal("last words", Encoding.ASCII.GetString(await session.Client.ReceiveUntilCloseAsync().WaitAsync(Timeouts.Short)));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, session.Client.CloseStatus);
        Assert.Equal(Reason, session.Client.CloseStatusDescription);
        await session.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
        await ReceiveCloseAsync(session.Agent);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, session.Agent.CloseStatus);
        Assert.Equal("ok", session.Agent.CloseStatusDescription);

        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, 10, Reason), result.AgentToClient);
        Assert.Equal(new PumpResult(PumpEnd.PeerClosed, 0, "ok"), result.ClientToAgent);
        Assert.Equal(Reason, result.EndReason);
        Assert.Equal(0, harness.ServerMux.Count);
        Assert.Equal(0, harness.AgentMux.Count);
    }

    [Fact]
    public async Task RunAsync_WhenTheClientVanishes_ClosesTheAgentsStreamWithClientDisconnected()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        var other = await harness.OpenAsync();

        session.ClientPair.AbortClient();

        await ReceiveCloseAsync(session.Agent);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, session.Agent.CloseStatus);
        Assert.StartsWith("client disconnected", session.Agent.CloseStatusDescription, StringComparison.Ordinal);
        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(PumpEnd.Failed, result.ClientToAgent.End);
        Assert.Equal(PumpSide.Source, result.ClientToAgent.FailedSide);

        // One session's end is not the connection's.
        await MuxStreamTests.AssertExchangeAsync(other.Client, other.Agent);
        Assert.Equal(1, harness.ServerMux.Count);
    }

    [Fact]
    public async Task RunAsync_WhenTheStreamsConnectionDies_ClosesEveryClientWithAgentDisconnected_AndEnds()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        StreamRelayHarness.Session[] sessions = [await harness.OpenAsync(), await harness.OpenAsync()];

        harness.Shared.AbortClient();

        foreach (var session in sessions)
        {
            await ReceiveCloseAsync(session.Client);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, session.Client.CloseStatus);
            Assert.StartsWith("agent disconnected", session.Client.CloseStatusDescription, StringComparison.Ordinal);
        }

        // The clients never answer (as in WebSocketRelayTests): the relays end all the same, the agent's side failed.
        var results = await Task.WhenAll(sessions.Select(s => s.Relay)).WaitAsync(Timeouts.Test);
        Assert.All(results, r => Assert.Equal(PumpEnd.Failed, r.AgentToClient.End));
        Assert.True(harness.ServerMux.IsEnded);
    }

    [Fact]
    public async Task RunAsync_WhenTheSessionIdlesOut_ClosesBothSidesWith1008AndTheReason()
    {
        var time = new FakeTimeProvider();
        using var lifetime = new SessionLifetime(TimeSpan.FromMinutes(30), TimeSpan.FromHours(12), time);
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync(lifetime);
        await session.Client.SendBinaryAsync("before"u8.ToArray());
        await MuxStreamTests.ReceiveExactlyAsync(session.Agent, 6).WaitAsync(Timeouts.Short);

        time.Advance(TimeSpan.FromMinutes(31));

        foreach (var side in new WebSocket[] { session.Client, session.Agent })
        {
            await ReceiveCloseAsync(side);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, side.CloseStatus);
            Assert.Equal("session idle for 30 min", side.CloseStatusDescription);
            await side.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal("session idle for 30 min", result.EndReason);
        Assert.Equal(new PumpResult(PumpEnd.Canceled, 6, "session idle for 30 min"), result.ClientToAgent);
        Assert.Equal(new PumpResult(PumpEnd.Canceled, 0, "session idle for 30 min"), result.AgentToClient);
    }

    [Fact]
    public async Task RunAsync_WhenCancelled_Ends()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        using var cancel = new CancellationTokenSource();
        var session = await harness.OpenAsync(cancellationToken: cancel.Token);

        await cancel.CancelAsync();

        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(PumpEnd.Canceled, result.ClientToAgent.End);
        Assert.Equal(PumpEnd.Canceled, result.AgentToClient.End);
    }

    [Fact]
    public async Task ClientPing_IsAnsweredByTheRelay_AndNotForwarded_EvenBetweenFragments()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        var raw = session.RawClient;

        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Binary, "frag"u8, fin: false));
        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Ping, "are you there"u8));
        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Continuation, "mented"u8));

        Assert.Equal(RawFrames.Unmasked(FrameOpcode.Pong, "are you there"u8), await ReadExactlyAsync(raw, 2 + 13));
        Assert.Equal("fragmented", Encoding.ASCII.GetString(await MuxStreamTests.ReceiveExactlyAsync(session.Agent, 10).WaitAsync(Timeouts.Short)));

        // Nothing else reached the agent: what it reads next is the client's fin.
        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Text, "fin"u8));
        var (type, payload) = await session.Agent.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.True(DataFrames.IsFin(payload));
    }

    [Fact]
    public async Task AClientFrameArrivingInPieces_CrossesAsOneStreamFrame_OrAsFullOnesWhenLarger()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        var small = new byte[100_000];
        var large = new byte[(2 * StreamFrame.MaxData) + 5_000];
        Random.Shared.NextBytes(small);
        Random.Shared.NextBytes(large);
        byte[] wire = [.. RawFrames.Masked(FrameOpcode.Binary, small), .. RawFrames.Masked(FrameOpcode.Binary, large)];

        // Pieces of 7 000 bytes, each after a pause: the relay sees every frame in many reads.
        for (var offset = 0; offset < wire.Length; offset += 7_000)
        {
            await session.RawClient.WriteAsync(wire.AsMemory(offset, Math.Min(7_000, wire.Length - offset)));
            await Task.Delay(2);
        }

        // A stream's message ends where its frame ended, so each receive shows one stream frame.
        var buffer = new byte[400_000];
        var received = new List<int>();
        var total = 0;
        while (total < small.Length + large.Length)
        {
            var result = await session.Agent.ReceiveAsync(buffer.AsMemory(total), CancellationToken.None).AsTask().WaitAsync(Timeouts.Short);
            Assert.True(result.EndOfMessage);
            received.Add(result.Count);
            total += result.Count;
        }

        Assert.Equal([small.Length, StreamFrame.MaxData, StreamFrame.MaxData, 5_000], received);
        Assert.Equal([.. small, .. large], buffer[..total]);
    }

    [Theory]
    [InlineData("text", "unexpected text message on a data channel")]
    [InlineData("continuation", "continuation frame outside a fragmented message")]
    [InlineData("nested", "new message inside a fragmented message")]
    public async Task ClientProtocolViolation_ClosesTheClientWith1002_TellsTheAgent_AndTheRelayFails(string violation, string why)
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        var raw = session.RawClient;
        byte[] frames = violation switch
        {
            "text" => RawFrames.Masked(FrameOpcode.Text, "hello"u8),
            "continuation" => RawFrames.Masked(FrameOpcode.Continuation, "stray"u8),
            _ => [.. RawFrames.Masked(FrameOpcode.Binary, "first"u8, fin: false), .. RawFrames.Masked(FrameOpcode.Binary, "second"u8)],
        };

        await raw.WriteAsync(frames);

        var (status, reason) = await ReadCloseFrameAsync(raw);
        Assert.Equal((int)WebSocketCloseStatus.ProtocolError, status);
        Assert.Equal(why, reason);
        await session.Agent.ReceiveUntilCloseAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, session.Agent.CloseStatus);
        Assert.StartsWith("client disconnected", session.Agent.CloseStatusDescription, StringComparison.Ordinal);
        Assert.EndsWith(why, session.Agent.CloseStatusDescription, StringComparison.Ordinal);
        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);

        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(PumpEnd.Failed, result.ClientToAgent.End);
        Assert.Equal(PumpSide.Source, result.ClientToAgent.FailedSide);
        Assert.False(harness.ServerMux.IsEnded);
    }

    [Fact]
    public async Task StalledClient_DoesNotSlowAnotherSessionOnTheSameConnection()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();

        // Small socket buffers on the stalled client's connection, so the relay's writes to it back up early.
        var stalled = await harness.OpenAsync(clientSocketBufferSize: 64 * 1024);
        var flowing = await harness.OpenAsync();

        // The stalled client reads nothing while its agent sends two windows: the agent's send must stop on credit.
        var flood = RandomNumberGenerator.GetBytes(2 * MuxStream.Window);
        var flooding = stalled.Agent.SendAsync(flood.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask();
        await Task.Delay(500);
        Assert.False(flooding.IsCompleted, "the agent sent past the stalled client without credit");

        // The other session, on the same connection, moves several MB each way promptly.
        await Task.WhenAll(
            MuxStreamTests.TransferAsync(flowing.Client, flowing.Agent, seed: 3, maxRead: 100_000, bytes: 8 * 1024 * 1024),
            MuxStreamTests.TransferAsync(flowing.Agent, flowing.Client, seed: 4, maxRead: 100_000, bytes: 8 * 1024 * 1024)).WaitAsync(Timeouts.Short);
        Assert.False(flooding.IsCompleted, "the agent sent past the stalled client without credit");

        // Once the client reads, every byte of the flood arrives and the agent's send completes.
        Assert.Equal(flood, await MuxStreamTests.ReceiveExactlyAsync(stalled.Client, flood.Length).WaitAsync(Timeouts.Short));
        await flooding.WaitAsync(Timeouts.Short);
    }

    [Fact]
    public async Task AgentThatDoesNotRead_StopsTheRelayReadingItsClient_AndNoByteIsLost()
    {
        await using var harness = await StreamRelayHarness.CreateAsync();
        var slow = await harness.OpenAsync(clientSocketBufferSize: 64 * 1024);
        var other = await harness.OpenAsync();

        // Sixteen windows from the client while the agent reads nothing: the relay takes a window's worth and then stops
        // reading, so the client's socket fills and its send cannot finish.
        var upload = RandomNumberGenerator.GetBytes(16 * MuxStream.InitialWindow);
        var uploading = Task.Run(() => SendInPiecesAsync(slow.Client, upload, maxPiece: 300_000));
        await Task.Delay(500);
        Assert.False(uploading.IsCompleted, "the relay took all of the client's bytes although the agent read none");
        Assert.False(uploading.IsFaulted);

        // Nor does the relay hold the connection up for the other session.
        await MuxStreamTests.AssertExchangeAsync(other.Client, other.Agent);

        // Once the agent reads, everything arrives, in order.
        Assert.Equal(upload, await MuxStreamTests.ReceiveExactlyAsync(slow.Agent, upload.Length).WaitAsync(Timeouts.Short));
        await uploading.WaitAsync(Timeouts.Short);
    }

    [Fact]
    public async Task ClientBytesArrivingAfterTheAgentClosed_AreDropped_AndTheConnectionLives()
    {
        // The agent's side has closed (its target went away) while the client still uploads: what the client sends
        // before it has read the close is more than the window. Forwarded past the window, it would make the agent's
        // mux end the whole streams connection, every other session on it with it.
        await using var harness = await StreamRelayHarness.CreateAsync();
        var session = await harness.OpenAsync();
        var other = await harness.OpenAsync();
        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "target connection closed", CancellationToken.None);
        await ReceiveCloseAsync(session.Client);

        await session.Client.SendBinaryAsync(RandomNumberGenerator.GetBytes(4 * MuxStream.InitialWindow)).WaitAsync(Timeouts.Short);
        await session.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);

        // The agent, which has read nothing since its close, gets the client's answer, and the connection lives.
        await session.Agent.ReceiveUntilCloseAsync().WaitAsync(Timeouts.Short);
        if (harness.AgentRun.IsCompleted)
        {
            Assert.Fail($"the agent's mux ended the connection: {await harness.AgentRun}");
        }
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "ok"), (session.Agent.CloseStatus, session.Agent.CloseStatusDescription));
        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(PumpEnd.PeerClosed, result.ClientToAgent.End);
        Assert.Equal(PumpEnd.PeerClosed, result.AgentToClient.End);
        Assert.False(harness.ServerMux.IsEnded);
        await MuxStreamTests.AssertExchangeAsync(other.Client, other.Agent);
    }

    [Fact]
    public async Task WhenTheStreamsConnectionBreaksAsTheWindowRunsOut_TheClientIsToldAgentDisconnected()
    {
        BreakableStream? connection = null;
        ReadWatchStream? clientEnd = null;
        await using var harness = await StreamRelayHarness.CreateAsync(s => connection = new BreakableStream(s));
        var session = await harness.OpenAsync(wrapClientServerStream: s => clientEnd = new ReadWatchStream(s));
        var raw = session.RawClient;

        // All but 10 bytes of the window cross; the agent reads none of them, so no credit comes back.
        var first = RawFrames.Masked(FrameOpcode.Binary, new byte[MuxStream.InitialWindow - 10]);
        var forwarded = clientEnd!.AskedForMoreAfterAsync(first.Length);
        await raw.WriteAsync(first);
        await forwarded.WaitAsync(Timeouts.Short);

        // The connection breaks. The next frame uses up the window halfway: the relay flushes what it wrote, and the
        // flush fails.
        connection!.BreakWrites();
        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Binary, new byte[20]));

        var close = ReadCloseFrameAsync(raw);
        await Task.WhenAny(close, session.Relay).WaitAsync(Timeouts.Short);
        if (session.Relay.IsFaulted)
        {
            await session.Relay;
        }

        var (status, reason) = await close;
        Assert.Equal((int)WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.StartsWith("agent disconnected", reason, StringComparison.Ordinal);

        // The agent gives the stream up too (reading from the server still works), and the relay ends.
        await session.Agent.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "gone", CancellationToken.None);
        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(PumpEnd.Failed, result.ClientToAgent.End);
        Assert.Equal(PumpSide.Destination, result.ClientToAgent.FailedSide);
    }

    [Fact]
    public async Task RunAsync_CancelledWhileItsWriteToACongestedConnectionStalls_DoesNotCutAFrameInTwo()
    {
        // The relay is cancelled (its session ended, say) while a write of its to the streams connection waits on a
        // congested socket. Cut off there, half a frame would be on the wire and the other sessions would read garbage.
        StallingStream? connection = null;
        ReadWatchStream? clientEnd = null;
        await using var harness = await StreamRelayHarness.CreateAsync(s => connection = new StallingStream(s));
        using var cancel = new CancellationTokenSource();
        var session = await harness.OpenAsync(wrapClientServerStream: s => clientEnd = new ReadWatchStream(s), cancellationToken: cancel.Token);
        var other = await harness.OpenAsync();
        var raw = session.RawClient;

        // All but 10 bytes of the window cross; the agent reads none of them, so no credit comes back.
        var first = RawFrames.Masked(FrameOpcode.Binary, new byte[MuxStream.InitialWindow - 10]);
        var forwarded = clientEnd!.AskedForMoreAfterAsync(first.Length);
        await raw.WriteAsync(first);
        await forwarded.WaitAsync(Timeouts.Short);

        // The connection congests. The next frame uses up the window halfway; the relay's flush of it stalls, and the
        // relay is cancelled meanwhile.
        connection!.Stall();
        await raw.WriteAsync(RawFrames.Masked(FrameOpcode.Binary, new byte[20]));
        await connection.Stalled.WaitAsync(Timeouts.Short);
        await cancel.CancelAsync();
        await Task.Delay(200);
        connection.Resume();

        var result = await session.Relay.WaitAsync(Timeouts.Short);
        Assert.Equal(PumpEnd.Canceled, result.ClientToAgent.End);

        // The frame went out whole: the other session still works, the agent's mux found nothing wrong, and the stream's
        // bytes are all there.
        await MuxStreamTests.AssertExchangeAsync(other.Client, other.Agent);
        if (harness.AgentRun.IsCompleted)
        {
            Assert.Fail($"the agent's mux ended the connection: {await harness.AgentRun}");
        }

        Assert.Equal(MuxStream.InitialWindow, (await MuxStreamTests.ReceiveExactlyAsync(session.Agent, MuxStream.InitialWindow).WaitAsync(Timeouts.Short)).Length);
    }

    private static Task SendFinAsync(WebSocket webSocket) =>
        webSocket.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).AsTask();

    private static async Task SendInPiecesAsync(WebSocket webSocket, byte[] bytes, int maxPiece)
    {
        var random = new Random(5);
        for (var offset = 0; offset < bytes.Length;)
        {
            var piece = Math.Min(random.Next(1, maxPiece + 1), bytes.Length - offset);
            await webSocket.SendAsync(bytes.AsMemory(offset, piece), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            offset += piece;
        }
    }

    /// <summary>The bytes of the binary messages up to the text message <c>fin</c> (and no other text message).</summary>
    private static async Task<byte[]> ReceiveUntilFinAsync(WebSocket webSocket)
    {
        using var bytes = new MemoryStream();
        while (true)
        {
            var (type, payload) = await webSocket.ReceiveMessageAsync();
            if (type == WebSocketMessageType.Text && DataFrames.IsFin(payload))
            {
                return bytes.ToArray();
            }

            Assert.Equal(WebSocketMessageType.Binary, type);
            bytes.Write(payload);
        }
    }

    /// <summary>Reads the close that must come next; its status and reason are then on the WebSocket.</summary>
    private static async Task ReceiveCloseAsync(WebSocket webSocket)
    {
        var (type, payload) = await webSocket.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.True(type == WebSocketMessageType.Close, $"a {type} message of {payload.Length} bytes where a close was expected");
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var bytes = new byte[count];
        await stream.ReadExactlyAsync(bytes).AsTask().WaitAsync(Timeouts.Short);
        return bytes;
    }

    /// <summary>Reads a close frame the server sent on a raw client socket (nothing else may come first).</summary>
    private static async Task<(int Status, string Reason)> ReadCloseFrameAsync(Stream raw)
    {
        var header = await ReadExactlyAsync(raw, 2);
        Assert.Equal(0x88, header[0]);
        var payload = await ReadExactlyAsync(raw, header[1]);
        return (BinaryPrimitives.ReadUInt16BigEndian(payload), Encoding.UTF8.GetString(payload.AsSpan(2)));
    }
}
