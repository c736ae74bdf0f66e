using System.Net.WebSockets;
using System.Text;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// The shared connection under its streams: opening streams, losing the connection, and a peer that breaks the wire
/// rules. Where a test needs to break them, the far end is a raw WebSocket that writes stream frames by hand.
/// </summary>
public sealed class StreamMuxTests
{
    [Fact]
    public async Task Reserve_GivesIdsThatAreNeverReused()
    {
        await using var mux = await MuxPair.CreateAsync();

        var (first, firstAgent) = await mux.OpenAsync();
        first.Abort();
        firstAgent.Abort();
        var second = mux.Server.Reserve();
        var third = mux.Server.Reserve();

        Assert.Equal(3, new[] { first.Id, second.Id, third.Id }.Distinct().Count());
        Assert.True(first.Id < second.Id && second.Id < third.Id);
    }

    [Fact]
    public async Task Accept_AnIdAlreadyOpen_Throws()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, _) = await mux.OpenAsync();

        Assert.Throws<InvalidOperationException>(() => mux.Agent.Accept(server.Id));
    }

    [Fact]
    public async Task Accepted_CompletesTrue_OnlyWhenTheAgentAcknowledges()
    {
        await using var mux = await MuxPair.CreateAsync();
        var server = mux.Server.Reserve();
        var agent = mux.Agent.Accept(server.Id);
        await Task.Delay(200);
        Assert.False(server.Accepted.IsCompleted, "accepted before the agent said so");

        await agent.AcknowledgeAsync(CancellationToken.None);

        Assert.True(await server.Accepted.WaitAsync(Timeouts.Short));
        await MuxStreamTests.AssertExchangeAsync(server, agent);
    }

    [Fact]
    public async Task Accepted_CompletesFalse_WhenTheAgentClosesFirst()
    {
        await using var mux = await MuxPair.CreateAsync();
        var server = mux.Server.Reserve();
        var agent = mux.Agent.Accept(server.Id);

        await agent.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "target connection failed: refused", CancellationToken.None);

        Assert.False(await server.Accepted.WaitAsync(Timeouts.Short));
        Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal("target connection failed: refused", server.CloseStatusDescription);
    }

    [Fact]
    public async Task Accepted_CompletesFalse_WhenTheConnectionEndsFirst()
    {
        await using var mux = await MuxPair.CreateAsync();
        var server = mux.Server.Reserve();

        mux.Connection.AbortClient();

        Assert.False(await server.Accepted.WaitAsync(Timeouts.Short));
    }

    [Theory]
    [InlineData(true, "agent disconnected")]
    [InlineData(false, "server disconnected")]
    public async Task LosingTheConnection_EndsEveryStreamOnTheOtherEndWith1001AndWhoLeft(bool agentVanishes, string expected)
    {
        await using var mux = await MuxPair.CreateAsync();
        var opened = new[] { await mux.OpenAsync(), await mux.OpenAsync(), await mux.OpenAsync() };
        var survivors = opened.Select(s => agentVanishes ? s.Server : s.Agent).ToArray();
        var survivingRun = agentVanishes ? mux.ServerRun : mux.AgentRun;

        // At the moment of loss one survivor waits to read, one waits for credit, one is idle.
        var reading = survivors[0].ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None).AsTask();
        var waitingForCredit = survivors[1].SendAsync(new byte[MuxStream.Window + 1].AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask();
        await Task.Delay(200);
        Assert.False(reading.IsCompleted);
        Assert.False(waitingForCredit.IsCompleted);

        if (agentVanishes)
        {
            mux.Connection.AbortClient();
        }
        else
        {
            mux.Connection.Server.Abort();
            mux.Connection.Sockets.Left.Close(0);
        }

        var reason = await survivingRun.WaitAsync(Timeouts.Short);
        Assert.False(string.IsNullOrEmpty(reason));
        Assert.True(agentVanishes ? mux.Server.IsEnded : mux.Agent.IsEnded);

        Assert.Equal(WebSocketMessageType.Close, (await reading.WaitAsync(Timeouts.Short)).MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, survivors[0].CloseStatus);
        Assert.Equal(expected, survivors[0].CloseStatusDescription);
        await Assert.ThrowsAsync<WebSocketException>(() => waitingForCredit.WaitAsync(Timeouts.Short));
        foreach (var stream in survivors.Skip(1))
        {
            var close = await stream.ReceiveAsync(new ArraySegment<byte>(new byte[16]), CancellationToken.None).WaitAsync(Timeouts.Short);
            Assert.Equal(WebSocketMessageType.Close, close.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
            Assert.Equal(expected, close.CloseStatusDescription);
        }

        foreach (var stream in survivors)
        {
            await Assert.ThrowsAsync<WebSocketException>(() => stream.SendBinaryAsync([1, 2, 3]));
        }

        await Assert.ThrowsAsync<WebSocketException>(() => survivors[0].SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Reserve_AfterTheConnectionEnded_GivesAStreamThatReadsTheLoss()
    {
        await using var mux = await MuxPair.CreateAsync();
        mux.Connection.AbortClient();
        await mux.ServerRun.WaitAsync(Timeouts.Short);

        var late = mux.Server.Reserve();

        Assert.False(await late.Accepted.WaitAsync(Timeouts.Short));
        Assert.Equal(WebSocketMessageType.Close, (await late.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal("agent disconnected", late.CloseStatusDescription);
        await Assert.ThrowsAsync<WebSocketException>(() => late.SendBinaryAsync([1]));
    }

    [Fact]
    public async Task CloseAsync_EndsTheConnection_AndEveryStreamOnBothEnds()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();

        await mux.Server.CloseAsync(WebSocketCloseStatus.NormalClosure, "shutting down");

        Assert.Equal("closed by the server: shutting down", await mux.AgentRun.WaitAsync(Timeouts.Short));
        Assert.Equal("closed by the agent: shutting down", await mux.ServerRun.WaitAsync(Timeouts.Short));
        Assert.Equal(WebSocketMessageType.Close, (await agent.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "server disconnected"), (agent.CloseStatus, agent.CloseStatusDescription));
        Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "agent disconnected"), (server.CloseStatus, server.CloseStatusDescription));
    }

    public static TheoryData<string, string> Violations => new()
    {
        { "window", "stream 1 sent more than its window" },
        { "type", "unknown stream frame type 9" },
        { "credit", "credit frame whose payload is not 4 bytes" },
        { "text", "text message on the streams connection" },
        { "oversize", $"message over the {StreamFrame.MaxMessage}-byte limit" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task APeerThatBreaksTheWireRules_IsClosedWithProtocolError_AndTheStreamsEnd(string violation, string expected)
    {
        using var connection = await WebSocketPair.CreateAsync();
        await using var mux = new StreamMux(connection.Server, "agent");
        var run = mux.RunAsync(CancellationToken.None);
        var stream = mux.Reserve();
        Assert.Equal(1u, stream.Id);
        var peer = connection.Client;

        switch (violation)
        {
            case "window":
                // A stream the server has not widened has the initial 512 KiB: four full data frames fit, a fifth byte does not.
                for (var i = 0; i < MuxStream.InitialWindow / StreamFrame.MaxData; i++)
                {
                    await SendFrameAsync(peer, 1, StreamFrameType.Data, new byte[StreamFrame.MaxData]);
                }

                await SendFrameAsync(peer, 1, StreamFrameType.Data, [1]);
                break;
            case "type":
                await SendFrameAsync(peer, 1, (StreamFrameType)9, []);
                break;
            case "credit":
                await SendFrameAsync(peer, 1, StreamFrameType.Credit, [0, 0, 1]);
                break;
            case "text":
                await peer.SendTextAsync("fin");
                break;
            case "oversize":
                await peer.SendBinaryAsync(new byte[StreamFrame.MaxMessage + 1]);
                break;
        }

        var (type, _) = await peer.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.ProtocolError, peer.CloseStatus);
        Assert.Equal(expected, peer.CloseStatusDescription);
        Assert.Equal("protocol error: " + expected, await run.WaitAsync(Timeouts.Short));
        Assert.True(mux.IsEnded);

        var close = await ReceiveCloseAsync(stream);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
        Assert.Equal("agent disconnected", close.CloseStatusDescription);
    }

    [Fact]
    public async Task FramesForStreamsNeverOpenedOrAlreadyEnded_AreIgnored()
    {
        using var connection = await WebSocketPair.CreateAsync();
        await using var mux = new StreamMux(connection.Server, "agent");
        var run = mux.RunAsync(CancellationToken.None);
        var open = mux.Reserve();
        var ended = mux.Reserve();
        ended.Abort();
        var peer = connection.Client;

        // More data than a window for an id never reserved, every other type for others, and data for the aborted id.
        for (var i = 0; i < 6; i++)
        {
            await SendFrameAsync(peer, 77, StreamFrameType.Data, new byte[StreamFrame.MaxData]);
        }

        await SendFrameAsync(peer, 78, StreamFrameType.Credit, [0, 0, 1, 0]);
        await SendFrameAsync(peer, 79, StreamFrameType.Fin, []);
        await SendFrameAsync(peer, 80, StreamFrameType.Close, StreamFrameTests.Close(1000, "bye"));
        await SendFrameAsync(peer, ended.Id, StreamFrameType.Data, new byte[10]);
        await SendFrameAsync(peer, open.Id, StreamFrameType.Data, "hello"u8);

        Assert.Equal("hello", Encoding.ASCII.GetString(await MuxStreamTests.ReceiveExactlyAsync(open, 5).WaitAsync(Timeouts.Short)));
        Assert.True(await open.Accepted.WaitAsync(Timeouts.Short));
        Assert.False(mux.IsEnded);
        Assert.False(run.IsCompleted);
        Assert.Equal(1, mux.Count);

        // The only answer was the abort's close.
        var (type, told) = await peer.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Null(StreamFrame.TryParse(told, out var frame));
        Assert.Equal((ended.Id, StreamFrameType.Close), (frame.StreamId, frame.Type));
    }

    [Fact]
    public async Task Credit_GoesBackInBatchesOfHalfAWindow_OnlyAsTheReaderTakesTheBytes()
    {
        using var connection = await WebSocketPair.CreateAsync();
        await using var mux = new StreamMux(connection.Server, "agent");
        var run = mux.RunAsync(CancellationToken.None);
        var stream = mux.Reserve();
        var peer = connection.Client;
        for (var i = 0; i < MuxStream.InitialWindow / StreamFrame.MaxData; i++)
        {
            await SendFrameAsync(peer, stream.Id, StreamFrameType.Data, new byte[StreamFrame.MaxData]);
        }

        // Nothing read, or less than half a window read: no credit yet.
        var firstCredit = peer.ReceiveMessageAsync();
        await Task.Delay(200);
        await MuxStreamTests.ReceiveExactlyAsync(stream, (MuxStream.InitialWindow / 2) - 1).WaitAsync(Timeouts.Short);
        await Task.Delay(200);
        Assert.False(firstCredit.IsCompleted, "credit for less than half a window");

        await MuxStreamTests.ReceiveExactlyAsync(stream, (MuxStream.InitialWindow / 2) + 1).WaitAsync(Timeouts.Short);

        var credits = new List<uint>();
        foreach (var message in new[] { firstCredit, peer.ReceiveMessageAsync() })
        {
            var (type, bytes) = await message.WaitAsync(Timeouts.Short);
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Null(StreamFrame.TryParse(bytes, out var frame));
            Assert.Equal((stream.Id, StreamFrameType.Credit), (frame.StreamId, frame.Type));
            credits.Add(frame.Credit);
        }

        Assert.Equal(MuxStream.InitialWindow, credits.Sum(c => (long)c));
        Assert.All(credits, c => Assert.True(c >= MuxStream.InitialWindow / 2));
        Assert.False(run.IsCompleted);
    }

    [Fact]
    public async Task Credit_GrantedFarBeyondAnyNeed_DoesNotDisturbTheSender()
    {
        using var connection = await WebSocketPair.CreateAsync();
        await using var mux = new StreamMux(connection.Server, "agent");
        var run = mux.RunAsync(CancellationToken.None);
        var stream = mux.Reserve();
        var peer = connection.Client;

        for (var i = 0; i < 3; i++)
        {
            await SendFrameAsync(peer, stream.Id, StreamFrameType.Credit, [0xFF, 0xFF, 0xFF, 0xFF]);
        }

        var payload = new byte[(3 * MuxStream.InitialWindow) + 1];
        Random.Shared.NextBytes(payload);
        await stream.SendAsync(payload.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask().WaitAsync(Timeouts.Short);

        using var received = new MemoryStream();
        while (received.Length < payload.Length)
        {
            var (type, bytes) = await peer.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Null(StreamFrame.TryParse(bytes, out var frame));
            Assert.Equal(StreamFrameType.Data, frame.Type);
            received.Write(frame.Payload.Span);
        }

        Assert.Equal(payload, received.ToArray());
        Assert.False(run.IsCompleted);
    }

    private static async Task<WebSocketReceiveResult> ReceiveCloseAsync(WebSocket stream)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var received = await stream.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None).WaitAsync(Timeouts.Short);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return received;
            }
        }
    }

    [Fact]
    public async Task TryRetire_OnlyOnceNoStreamHasBeenOpenForTheIdleTime_AndThenNoStreamIsReserved()
    {
        await using var mux = await MuxPair.CreateAsync();
        var (server, agent) = await mux.OpenAsync();
        Assert.False(mux.Server.TryRetire(TimeSpan.Zero), "retired with a stream open");

        var closing = agent.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, (await server.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await closing.WaitAsync(Timeouts.Short);
        Assert.Equal(0, mux.Server.Count);

        Assert.False(mux.Server.TryRetire(TimeSpan.FromMinutes(1)), "retired before it had been idle that long");
        Assert.NotNull(mux.Server.TryReserve());
        Assert.False(mux.Server.TryRetire(TimeSpan.Zero), "retired with a stream reserved");
    }

    [Fact]
    public async Task ARetiredConnection_ReservesNoStream_ButLivesUntilClosed()
    {
        await using var mux = await MuxPair.CreateAsync();

        Assert.True(mux.Server.TryRetire(TimeSpan.Zero));

        Assert.Null(mux.Server.TryReserve());
        Assert.Throws<InvalidOperationException>(() => mux.Server.Reserve());
        Assert.False(mux.Server.IsEnded);
        await mux.Server.CloseAsync(WebSocketCloseStatus.NormalClosure, "idle");
        Assert.Equal("closed by the server: idle", await mux.AgentRun.WaitAsync(Timeouts.Short));
    }

    [Fact]
    public async Task AnAgentThatAcknowledgesWithZero_IsGivenTheFullWindow_AndKeepsTheServerToTheInitialOne()
    {
        // An agent from before MuxStream.Window: its acknowledgement is a credit of 0, and it adds whatever it is granted.
        using var connection = await WebSocketPair.CreateAsync();
        await using var mux = new StreamMux(connection.Server, "agent");
        var run = mux.RunAsync(CancellationToken.None);
        var stream = mux.Reserve();
        var peer = connection.Client;
        await SendFrameAsync(peer, stream.Id, StreamFrameType.Credit, [0, 0, 0, 0]);
        Assert.True(await stream.Accepted.WaitAsync(Timeouts.Short));

        await stream.OpenWindowAsync();
        await stream.OpenWindowAsync();
        var grant = await ReceiveFrameAsync(peer);
        Assert.Equal((stream.Id, StreamFrameType.Credit, (uint)(MuxStream.Window - MuxStream.InitialWindow)), (grant.StreamId, grant.Type, grant.Credit));

        // The server's own sending stays within the initial window: this agent never widened it.
        var sending = stream.SendAsync(new byte[MuxStream.InitialWindow + 1].AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).AsTask();
        for (var received = 0; received < MuxStream.InitialWindow;)
        {
            var data = await ReceiveFrameAsync(peer);
            Assert.Equal(StreamFrameType.Data, data.Type);
            received += data.Payload.Length;
        }

        // The agent may send the whole window at once. Credit comes back once half of it is read (the second grant
        // above sent nothing: the only frame after the data is this credit), and a byte beyond the window breaks the rules.
        for (var i = 0; i < MuxStream.Window / StreamFrame.MaxData; i++)
        {
            await SendFrameAsync(peer, stream.Id, StreamFrameType.Data, new byte[StreamFrame.MaxData]);
        }

        await MuxStreamTests.ReceiveExactlyAsync(stream, MuxStream.Window / 2).WaitAsync(Timeouts.Short);
        var credit = await ReceiveFrameAsync(peer);
        Assert.Equal((StreamFrameType.Credit, (uint)(MuxStream.Window / 2)), (credit.Type, credit.Credit));
        Assert.False(sending.IsCompleted, "the server sent past the initial window");
        Assert.False(run.IsCompleted);

        for (var i = 0; i < MuxStream.Window / 2 / StreamFrame.MaxData; i++)
        {
            await SendFrameAsync(peer, stream.Id, StreamFrameType.Data, new byte[StreamFrame.MaxData]);
        }

        await SendFrameAsync(peer, stream.Id, StreamFrameType.Data, [1]);
        Assert.Equal($"protocol error: stream {stream.Id} sent more than its window", await run.WaitAsync(Timeouts.Short));
    }

    [Fact]
    public async Task Widening_ComesOutOfTheBudget_AStreamOpenedWhenItIsSpentKeepsTheInitialWindow()
    {
        // Room for one widened stream. The second keeps 512 KiB; the first one's share comes back when it ends, and a
        // third gets it.
        const int Widening = MuxStream.Window - MuxStream.InitialWindow;
        var budget = new StreamWindowBudget(Widening);
        using var connection = await WebSocketPair.CreateAsync();
        await using var mux = new StreamMux(connection.Server, "agent", budget);
        var run = mux.RunAsync(CancellationToken.None);
        var peer = connection.Client;

        var first = await OpenAcknowledgedWithZeroAsync(mux, peer);
        Assert.Equal((first.Id, StreamFrameType.Credit, (uint)Widening), Summarise(await ReceiveFrameAsync(peer)));
        Assert.Equal(0, budget.Available);

        var second = await OpenAcknowledgedWithZeroAsync(mux, peer);
        first.Abort();

        // The frame after the first's grant is its close: the second was given nothing.
        var close = await ReceiveFrameAsync(peer);
        Assert.Equal((first.Id, StreamFrameType.Close), (close.StreamId, close.Type));
        Assert.Equal(Widening, budget.Available);

        var third = await OpenAcknowledgedWithZeroAsync(mux, peer);
        Assert.Equal((third.Id, StreamFrameType.Credit, (uint)Widening), Summarise(await ReceiveFrameAsync(peer)));

        // The second's window is the initial one: a byte past it breaks the rules. The connection's end gives the
        // third's share back.
        for (var i = 0; i < MuxStream.InitialWindow / StreamFrame.MaxData; i++)
        {
            await SendFrameAsync(peer, second.Id, StreamFrameType.Data, new byte[StreamFrame.MaxData]);
        }

        await SendFrameAsync(peer, second.Id, StreamFrameType.Data, [1]);
        Assert.Equal($"protocol error: stream {second.Id} sent more than its window", await run.WaitAsync(Timeouts.Short));
        Assert.Equal(Widening, budget.Available);
    }

    [Fact]
    public void Budget_GivesAWideningWhole_OrNotAtAll()
    {
        var budget = new StreamWindowBudget(100);

        Assert.True(budget.TryTake(60));
        Assert.False(budget.TryTake(60));
        Assert.Equal(40, budget.Available);
        budget.Return(60);
        Assert.True(budget.TryTake(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamWindowBudget(-1));
    }

    /// <summary>Reserves a stream, acknowledges it as an older agent would (credit 0), and has the server widen the agent's window.</summary>
    private static async Task<MuxStream> OpenAcknowledgedWithZeroAsync(StreamMux mux, WebSocket peer)
    {
        var stream = mux.Reserve();
        await SendFrameAsync(peer, stream.Id, StreamFrameType.Credit, [0, 0, 0, 0]);
        Assert.True(await stream.Accepted.WaitAsync(Timeouts.Short));
        await stream.OpenWindowAsync();
        return stream;
    }

    private static (uint StreamId, StreamFrameType Type, uint Credit) Summarise(StreamFrame frame) => (frame.StreamId, frame.Type, frame.Credit);

    private static async Task<StreamFrame> ReceiveFrameAsync(WebSocket peer)
    {
        var (type, bytes) = await peer.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Null(StreamFrame.TryParse(bytes, out var frame));
        return frame;
    }

    private static Task SendFrameAsync(WebSocket peer, uint streamId, StreamFrameType type, ReadOnlySpan<byte> payload) =>
        peer.SendBinaryAsync(StreamFrameTests.Message(streamId, type, payload));
}
