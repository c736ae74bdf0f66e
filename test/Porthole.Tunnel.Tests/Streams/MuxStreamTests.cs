using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// One session on the streams connection, seen from both ends as the data WebSocket it stands in for: bytes intact
/// and in order, <c>fin</c>, closes with their status and reason, aborts, cancellation, and per-stream credit
/// (docs/design/agent-streams.md, "Flow control"). A real WebSocket over loopback TCP carries every stream.
/// </summary>
public sealed class MuxStreamTests
{
    private const int TransferBytes = 32 * 1024 * 1024;

    [Fact]
    public async Task Streams_CarryLargeTransfersBothWaysInterleaved_Intact()
    {
        await using var mux = await MuxPair.CreateAsync();
        var streams = new[] { await mux.OpenAsync(), await mux.OpenAsync(), await mux.OpenAsync() };

        // Six transfers at once, from both ends, in random pieces up to 300 000 bytes (more than one data frame).
        // The first stream's receivers read at most 1 000 bytes at a time, far less than a frame; the others up to 200 000.
        var transfers = new List<Task>();
        for (var i = 0; i < streams.Length; i++)
        {
            var (server, agent) = streams[i];
            var maxRead = i == 0 ? 1_000 : 200_000;
            transfers.Add(TransferAsync(server, agent, seed: 2 * i, maxRead));
            transfers.Add(TransferAsync(agent, server, seed: (2 * i) + 1, maxRead));
        }

        await Task.WhenAll(transfers).WaitAsync(Timeouts.Test);

        foreach (var (server, agent) in streams)
        {
            await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Close, (await agent.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
            await agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        }

        Assert.Equal(0, mux.Server.Count);
        Assert.Equal(0, mux.Agent.Count);
        Assert.False(mux.Server.IsEnded);
    }

    [Fact]
    public async Task SendAsync_WhenThePeerDoesNotRead_StopsAfterTheWindow_WhileAnotherStreamOnTheConnectionFlows()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (stalledSender, stalledReceiver) = await mux.OpenAsync();
        var (sender, receiver) = await mux.OpenAsync();

        // Stream A: the agent never reads, so no credit comes back. A window's worth of sends completes, the next waits.
        var piece = RandomNumberGenerator.GetBytes(64 * 1024);
        for (var sent = 0; sent < MuxStream.Window; sent += piece.Length)
        {
            await stalledSender.SendAsync(piece.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask().WaitAsync(Timeouts.Short);
        }

        var blocked = stalledSender.SendAsync(piece.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask();
        await Task.Delay(500);
        Assert.False(blocked.IsCompleted, "stream A's sender went past its window without credit");

        // Stream B, on the same connection, still moves several MB each way promptly.
        var transferB = Task.WhenAll(
            TransferAsync(sender, receiver, seed: 10, maxRead: 100_000, bytes: 8 * 1024 * 1024),
            TransferAsync(receiver, sender, seed: 11, maxRead: 100_000, bytes: 8 * 1024 * 1024));
        await transferB.WaitAsync(Timeouts.Short);
        Assert.False(blocked.IsCompleted, "stream A's sender went on without credit");

        // Once A's reader takes its bytes, the credit it returns lets the blocked send finish, and the bytes are A's.
        var expected = Enumerable.Repeat(piece, (MuxStream.Window / piece.Length) + 1).SelectMany(b => b).ToArray();
        var received = await ReceiveExactlyAsync(stalledReceiver, expected.Length).WaitAsync(Timeouts.Short);
        await blocked.WaitAsync(Timeouts.Short);
        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task SendAsync_WaitingForCredit_EndsWhenThePeerAbortsTheStream_AndTheStreamReadsItsClose()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (sender, abandoned) = await mux.OpenAsync();
        var piece = RandomNumberGenerator.GetBytes(64 * 1024);
        for (var sent = 0; sent < MuxStream.Window; sent += piece.Length)
        {
            await sender.SendAsync(piece.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask().WaitAsync(Timeouts.Short);
        }

        var blocked = sender.SendAsync(piece.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask();
        await Task.Delay(200);
        Assert.False(blocked.IsCompleted, "the sender went past its window without credit");

        // The agent gives up on the stream (its close timed out, say): it forgets it and grants nothing more.
        abandoned.Abort();

        await blocked.WaitAsync(Timeouts.Short);
        var buffer = new byte[1024];
        var closed = await sender.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, closed.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, sender.CloseStatus);
    }

    [Fact]
    public async Task Fin_IsReadAsTheTextMessageFin_AndTheOtherDirectionStillCarriesData()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();

        await server.SendBinaryAsync("request"u8.ToArray());
        await server.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        Assert.Equal("request", Encoding.ASCII.GetString(await ReceiveExactlyAsync(agent, 7).WaitAsync(Timeouts.Short)));
        var (type, fin) = await agent.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.True(DataFrames.IsFin(fin));
        Assert.Equal(WebSocketState.Open, agent.State);

        // The half that is still open: a response larger than the window, then the agent's own fin.
        var response = RandomNumberGenerator.GetBytes(3 * MuxStream.InitialWindow);
        var sending = agent.SendAsync(response.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask();
        Assert.Equal(response, await ReceiveExactlyAsync(server, response.Length).WaitAsync(Timeouts.Short));
        await sending.WaitAsync(Timeouts.Short);
        await agent.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var (serverType, serverFin) = await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Text, serverType);
        Assert.True(DataFrames.IsFin(serverFin));
    }

    [Fact]
    public async Task SendAsync_TextOtherThanFin_IsRefused()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, _) = await mux.OpenAsync();

        await Assert.ThrowsAsync<WebSocketException>(() => server.SendTextAsync("hello"));
        await Assert.ThrowsAsync<WebSocketException>(() => server.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task CloseOutputAsync_PeerReadsTheStatusAndReason_AndOnceBothClosedTheStreamIsForgottenOnBothEnds()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        const string Reason = "target connection failed: connection refused";

        await agent.SendBinaryAsync("last words"u8.ToArray());
        await agent.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, Reason, CancellationToken.None);
        Assert.Equal(WebSocketState.CloseSent, agent.State);

        // Bytes sent before the close arrive before it.
        Assert.Equal("last words", Encoding.ASCII.GetString(await ReceiveExactlyAsync(server, 10).WaitAsync(Timeouts.Short)));
        var close = await server.ReceiveAsync(new ArraySegment<byte>(new byte[16]), CancellationToken.None).WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        Assert.Equal(Reason, close.CloseStatusDescription);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, server.CloseStatus);
        Assert.Equal(Reason, server.CloseStatusDescription);
        Assert.Equal(WebSocketState.CloseReceived, server.State);

        await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var answer = await agent.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None).AsTask().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, answer.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, agent.CloseStatus);
        Assert.Equal("done", agent.CloseStatusDescription);

        Assert.Equal(WebSocketState.Closed, server.State);
        Assert.Equal(WebSocketState.Closed, agent.State);
        Assert.Equal(0, mux.Server.Count);
        Assert.Equal(0, mux.Agent.Count);
        await Assert.ThrowsAsync<WebSocketException>(() => agent.SendBinaryAsync([1]));
    }

    [Fact]
    public async Task CloseOutputAsync_WithAReasonTooLongForACloseFrame_SendsItClipped()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        var reason = "target connection failed: " + new string('é', 200);

        await server.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, reason, CancellationToken.None);

        Assert.Equal(WebSocketMessageType.Close, (await agent.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, agent.CloseStatus);
        Assert.Equal(DataFrames.ClipReason(reason), agent.CloseStatusDescription);
        Assert.False(mux.Agent.IsEnded);
    }

    [Fact]
    public async Task CloseOutputAsync_WithTheEmptyStatus_PeerReadsAnEmptyClose_AndTheConnectionLives()
    {
        // A WebSocket accepts Empty (no status) on its close; the peer's mux must not take it for a protocol error,
        // which would end every other session on the connection.
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        var (otherServer, otherAgent) = await mux.OpenAsync();

        // As on a WebSocket, "no status" carries no reason either.
        await Assert.ThrowsAsync<ArgumentException>(() => agent.CloseOutputAsync(WebSocketCloseStatus.Empty, "why", CancellationToken.None));
        await agent.CloseOutputAsync(WebSocketCloseStatus.Empty, null, CancellationToken.None);

        Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal(WebSocketCloseStatus.Empty, server.CloseStatus);
        Assert.Equal("", server.CloseStatusDescription);
        await AssertExchangeAsync(otherServer, otherAgent);
        Assert.False(mux.Server.IsEnded);
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(2000)]
    [InlineData(5000)]
    public async Task CloseOutputAsync_WithAStatusTheWireCannotCarry_IsRefused_AndTheConnectionLives(int status)
    {
        // The peer's parser refuses these (.NET's WebSocket sends some of them), which would end every session on the connection.
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => agent.CloseOutputAsync((WebSocketCloseStatus)status, "odd", CancellationToken.None));

        Assert.Equal(WebSocketState.Open, agent.State);
        await AssertExchangeAsync(server, agent);
        Assert.False(mux.Server.IsEnded);
    }

    [Fact]
    public async Task CloseAsync_CompletesWhenThePeerAnswers_DroppingWhatArrivesMeanwhile()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();

        var closing = server.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        Assert.Equal(WebSocketMessageType.Close, (await agent.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal("bye", agent.CloseStatusDescription);
        await agent.SendBinaryAsync(new byte[1000]);
        await Task.Delay(200);
        Assert.False(closing.IsCompleted, "a full close completed before the peer answered");

        await agent.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye too", CancellationToken.None);

        await closing.WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketState.Closed, server.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, server.CloseStatus);
        Assert.Equal("bye too", server.CloseStatusDescription);
        Assert.Equal(WebSocketState.Closed, agent.State);
        Assert.Equal(0, mux.Server.Count);
        Assert.Equal(0, mux.Agent.Count);
    }

    [Fact]
    public async Task CloseAsync_KeepsCreditFlowingWhileItDrains_SoAPeerMidwayThroughALargeSendGetsToAnswer()
    {
        // The agent's tunnel ends (its target failed) while the server still sends more than a window, as an upload
        // does. A WebSocket's full close reads and drops until the answer, so the sender finishes and then reads the
        // close: the server's relay answers only from the direction that is sending (WebSocketRelay), so a drain
        // that returned no credit would leave that send, and the session, waiting until the agent gave up.
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        var sending = server.SendAsync(new byte[2 * MuxStream.Window].AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask();
        await Task.Delay(200);
        Assert.False(sending.IsCompleted);

        var closing = agent.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "target connection failed: reset", CancellationToken.None);

        await sending.WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal("target connection failed: reset", server.CloseStatusDescription);
        await server.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "target connection failed: reset", CancellationToken.None);
        await closing.WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketState.Closed, agent.State);
        Assert.Equal(0, mux.Agent.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AbortOrDispose_PeerReadsACloseOf1001_AndOtherStreamsCarryOn(bool dispose)
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        var (otherServer, otherAgent) = await mux.OpenAsync();
        var pendingReceive = agent.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None).AsTask();

        if (dispose)
        {
            agent.Dispose();
        }
        else
        {
            agent.Abort();
        }

        Assert.Equal(WebSocketState.Aborted, agent.State);
        await Assert.ThrowsAsync<WebSocketException>(() => pendingReceive.WaitAsync(Timeouts.Short));
        await Assert.ThrowsAsync<WebSocketException>(() => agent.SendBinaryAsync([1]));
        Assert.Equal(1, mux.Agent.Count);

        Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, server.CloseStatus);
        Assert.Equal("session aborted", server.CloseStatusDescription);

        // Bytes for the aborted stream are dropped on arrival, without harm to the connection.
        await server.SendBinaryAsync(new byte[1000]);
        await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
        Assert.Equal(1, mux.Server.Count);
        await AssertExchangeAsync(otherServer, otherAgent);
        Assert.False(mux.Server.IsEnded);
        Assert.False(mux.Agent.IsEnded);
    }

    [Fact]
    public async Task ReceiveAsync_WhenCancelled_Throws_ButTheStreamStaysOpenForDataAndItsClose()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        using var cancel = new CancellationTokenSource();

        var pending = agent.ReceiveAsync(new byte[16].AsMemory(), cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Timeouts.Short));
        Assert.Equal(WebSocketState.Open, agent.State);
        await server.SendBinaryAsync("still here"u8.ToArray());
        Assert.Equal("still here", Encoding.ASCII.GetString(await ReceiveExactlyAsync(agent, 10).WaitAsync(Timeouts.Short)));

        await agent.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "cancelled by the user", CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, server.CloseStatus);
        Assert.Equal("cancelled by the user", server.CloseStatusDescription);
    }

    [Fact]
    public async Task SendAsync_WhenCancelledWhileWaitingForCredit_Throws_ButTheStreamCanStillClose()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        using var cancel = new CancellationTokenSource();

        // One byte more than the window: the send waits for credit the agent, not reading, never gives.
        var sending = server.SendAsync(new byte[MuxStream.Window + 1].AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, cancel.Token).AsTask();
        await Task.Delay(200);
        Assert.False(sending.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending.WaitAsync(Timeouts.Short));
        Assert.Equal(WebSocketState.Open, server.State);
        await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "gave up", CancellationToken.None);

        Assert.Equal(MuxStream.Window, (await ReceiveExactlyAsync(agent, MuxStream.Window).WaitAsync(Timeouts.Short)).Length);
        Assert.Equal(WebSocketMessageType.Close, (await agent.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal("gave up", agent.CloseStatusDescription);
    }

    /// <summary>Sends <paramref name="bytes"/> seeded random bytes in random pieces, then <c>fin</c>; the receiver hashes until <c>fin</c>.</summary>
    internal static async Task TransferAsync(WebSocket from, WebSocket to, int seed, int maxRead, int bytes = TransferBytes)
    {
        var send = Task.Run(() => SendRandomAsync(from, seed, bytes));
        var receive = Task.Run(() => ReceiveUntilFinAsync(to, seed, maxRead));
        var (sentHash, sentLength) = await send;
        var (receivedHash, receivedLength) = await receive;
        Assert.Equal(sentLength, receivedLength);
        Assert.Equal(sentHash, receivedHash);
    }

    private static async Task<(byte[] Hash, long Length)> SendRandomAsync(WebSocket from, int seed, int bytes)
    {
        var random = new Random(seed);
        var buffer = new byte[300_000];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        while (total < bytes)
        {
            var piece = buffer.AsMemory(0, (int)Math.Min(random.Next(1, buffer.Length + 1), bytes - total));
            random.NextBytes(piece.Span);
            sha.AppendData(piece.Span);
            await from.SendAsync(piece, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            total += piece.Length;
        }

        await from.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        return (sha.GetHashAndReset(), total);
    }

    private static async Task<(byte[] Hash, long Length)> ReceiveUntilFinAsync(WebSocket to, int seed, int maxRead)
    {
        var random = new Random(~seed);
        var buffer = new byte[maxRead];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var text = new MemoryStream();
        long total = 0;
        while (true)
        {
            var received = await to.ReceiveAsync(buffer.AsMemory(0, random.Next(1, maxRead + 1)), CancellationToken.None);
            switch (received.MessageType)
            {
                case WebSocketMessageType.Binary:
                    sha.AppendData(buffer, 0, received.Count);
                    total += received.Count;
                    break;
                case WebSocketMessageType.Text:
                    text.Write(buffer, 0, received.Count);
                    if (received.EndOfMessage)
                    {
                        Assert.True(DataFrames.IsFin(text.ToArray()), "a text message other than fin");
                        return (sha.GetHashAndReset(), total);
                    }

                    break;
                default:
                    Assert.Fail($"closed before fin: {to.CloseStatus} {to.CloseStatusDescription}");
                    break;
            }
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes of binary messages, whatever their boundaries.</summary>
    internal static async Task<byte[]> ReceiveExactlyAsync(WebSocket webSocket, int count)
    {
        var bytes = new byte[count];
        var offset = 0;
        while (offset < count)
        {
            var received = await webSocket.ReceiveAsync(bytes.AsMemory(offset), CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Binary, received.MessageType);
            offset += received.Count;
        }

        return bytes;
    }

    /// <summary>A few bytes each way, to show a stream still works.</summary>
    internal static async Task AssertExchangeAsync(WebSocket server, WebSocket agent)
    {
        await server.SendBinaryAsync("ping"u8.ToArray());
        Assert.Equal("ping", Encoding.ASCII.GetString(await ReceiveExactlyAsync(agent, 4).WaitAsync(Timeouts.Short)));
        await agent.SendBinaryAsync("pong"u8.ToArray());
        Assert.Equal("pong", Encoding.ASCII.GetString(await ReceiveExactlyAsync(server, 4).WaitAsync(Timeouts.Short)));
    }
}
