using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// The agent's side of the streams connection, which reads and writes client frames itself
/// (<see cref="StreamMux(Stream, TimeSpan, string)"/>), against a server end the tests write and read byte by byte:
/// framing split anywhere, masking, keep-alive, closes and a server that breaks the rules.
/// </summary>
public sealed class ClientFrameTransportTests
{
    [Fact]
    public async Task FramesSplitAnywhere_ArriveWhole_AndInOrder()
    {
        await using var agent = await AgentEnd.StartAsync();
        var stream = agent.Mux.Accept(1);
        var large = Pattern(100_000, seed: 1);
        var wire = new MemoryStream();
        foreach (var payload in new[] { large, "small"u8.ToArray(), Pattern(StreamFrame.MaxData, seed: 2) })
        {
            wire.Write(RawFrames.Unmasked(FrameOpcode.Binary, StreamFrameTests.Message(1, StreamFrameType.Data, payload)));
        }

        wire.Write(RawFrames.Unmasked(FrameOpcode.Ping, "mid-stream"u8));
        wire.Write(RawFrames.Unmasked(FrameOpcode.Binary, StreamFrameTests.Message(1, StreamFrameType.Fin, [])));

        // Pieces of 1 to 40 000 bytes, so that headers, stream headers and payloads are cut at every kind of place.
        var bytes = wire.ToArray();
        var random = new Random(7);
        var writer = Task.Run(async () =>
        {
            for (var offset = 0; offset < bytes.Length;)
            {
                var count = Math.Min(bytes.Length - offset, random.Next(1, 5) == 1 ? random.Next(1, 16) : random.Next(1, 40_000));
                await agent.Server.WriteAsync(bytes.AsMemory(offset, count));
                offset += count;
            }
        });

        var expected = large.Concat("small"u8.ToArray()).Concat(Pattern(StreamFrame.MaxData, seed: 2)).ToArray();
        Assert.Equal(expected, await MuxStreamTests.ReceiveExactlyAsync(stream, expected.Length).WaitAsync(Timeouts.Short));
        var (type, fin) = await stream.ReceiveMessageAsync().WaitAsync(Timeouts.Short);
        Assert.Equal((WebSocketMessageType.Text, "fin"), (type, Encoding.ASCII.GetString(fin)));
        await writer;
        Assert.False(agent.Run.IsCompleted);
    }

    [Fact]
    public async Task EveryFrameItSends_IsMasked_WithAKeyOfItsOwn()
    {
        await using var agent = await AgentEnd.StartAsync();
        var stream = agent.Mux.Accept(5);
        var payload = Pattern(70_000, seed: 3);

        await stream.AcknowledgeAsync(CancellationToken.None);
        await stream.SendAsync(payload.AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        await stream.SendAsync("more"u8.ToArray().AsMemory(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        // ReadClientFrameAsync accepts masked frames only, and unmasks with the frame's own key.
        var frames = new List<(FrameHeader Header, StreamFrame Frame)>();
        for (var i = 0; i < 3; i++)
        {
            var (header, message) = await RawFrames.ReadClientFrameAsync(agent.Server).WaitAsync(Timeouts.Short);
            Assert.Equal((FrameOpcode.Binary, true), (header.Opcode, header.Fin));
            Assert.Null(StreamFrame.TryParse(message, out var frame));
            frames.Add((header, frame));
        }

        // The acknowledgement is a credit frame whose credit widens the server's window to the full one.
        Assert.Equal((5u, StreamFrameType.Credit, (uint)(MuxStream.Window - MuxStream.InitialWindow)), (frames[0].Frame.StreamId, frames[0].Frame.Type, frames[0].Frame.Credit));
        Assert.Equal(payload, frames[1].Frame.Payload.ToArray());
        Assert.Equal("more", Encoding.ASCII.GetString(frames[2].Frame.Payload.Span));
        Assert.True(frames.Select(f => f.Header.Mask).Distinct().Count() >= 2, "the same masking key for every frame");
    }

    [Fact]
    public async Task AQuietConnection_IsPinged_AndTheServersPingIsAnswered()
    {
        await using var agent = await AgentEnd.StartAsync(pingInterval: TimeSpan.FromMilliseconds(100));

        var (ping, pingPayload) = await RawFrames.ReadClientFrameAsync(agent.Server).WaitAsync(Timeouts.Short);
        Assert.Equal(FrameOpcode.Ping, ping.Opcode);
        Assert.Equal("porthole", Encoding.ASCII.GetString(pingPayload));

        await agent.Server.WriteAsync(RawFrames.Unmasked(FrameOpcode.Ping, "are you there"u8));
        while (true)
        {
            var (header, payload) = await RawFrames.ReadClientFrameAsync(agent.Server).WaitAsync(Timeouts.Short);
            if (header.Opcode == FrameOpcode.Pong)
            {
                Assert.Equal("are you there", Encoding.ASCII.GetString(payload));
                break;
            }

            Assert.Equal(FrameOpcode.Ping, header.Opcode);
        }

        Assert.False(agent.Run.IsCompleted);
    }

    [Fact]
    public async Task TheServersClose_IsAnswered_AndEndsEveryStream()
    {
        await using var agent = await AgentEnd.StartAsync();
        var stream = agent.Mux.Accept(1);

        await agent.Server.WriteAsync(RawFrames.Unmasked(FrameOpcode.Close, ClosePayload(1001, "going away")));

        var (header, payload) = await RawFrames.ReadClientFrameAsync(agent.Server).WaitAsync(Timeouts.Short);
        Assert.Equal(FrameOpcode.Close, header.Opcode);
        Assert.Equal(ClosePayload(1001, "going away"), payload);
        Assert.Equal("closed by the server: going away", await agent.Run.WaitAsync(Timeouts.Short));
        Assert.Equal(WebSocketMessageType.Close, (await stream.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "server disconnected"), (stream.CloseStatus, stream.CloseStatusDescription));
        await Assert.ThrowsAsync<WebSocketException>(() => agent.Mux.Accept(2).SendAsync(new byte[1].AsMemory(), WebSocketMessageType.Binary, true, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task AConnectionCutInTheMiddleOfAFrame_EndsTheStreams()
    {
        await using var agent = await AgentEnd.StartAsync();
        var stream = agent.Mux.Accept(1);
        var frame = RawFrames.Unmasked(FrameOpcode.Binary, StreamFrameTests.Message(1, StreamFrameType.Data, Pattern(1000, seed: 4)));

        await agent.Server.WriteAsync(frame.AsMemory(0, 600));
        agent.Sockets.Left.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        Assert.Equal("connection closed without a close frame", await agent.Run.WaitAsync(Timeouts.Short));
        Assert.Equal(WebSocketMessageType.Close, (await stream.ReceiveMessageAsync().WaitAsync(Timeouts.Short)).Type);
        Assert.Equal("server disconnected", stream.CloseStatusDescription);
    }

    public static TheoryData<string, string> Violations => new()
    {
        { "masked", "masked frame from a server" },
        { "fragmented", "fragmented message on the streams connection" },
        { "text", "text message on the streams connection" },
        { "oversize", $"message over the {StreamFrame.MaxMessage}-byte limit" },
        { "short", $"stream frame of 3 bytes is shorter than its {StreamFrame.HeaderLength}-byte header" },
        { "window", "stream 1 sent more than its window" },
        { "credit", "credit frame whose payload is not 4 bytes" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task AServerThatBreaksTheWireRules_IsClosedWithProtocolError_AndTheStreamsEnd(string violation, string expected)
    {
        await using var agent = await AgentEnd.StartAsync();
        var stream = agent.Mux.Accept(1);
        var wire = new MemoryStream();
        switch (violation)
        {
            case "masked":
                wire.Write(RawFrames.Masked(FrameOpcode.Binary, StreamFrameTests.Message(1, StreamFrameType.Data, [1])));
                break;
            case "fragmented":
                // FIN clear: the first frame of a message in pieces.
                wire.Write([(byte)FrameOpcode.Binary, 6, .. StreamFrameTests.Message(1, StreamFrameType.Data, [1])]);
                break;
            case "text":
                wire.Write(RawFrames.Unmasked(FrameOpcode.Text, "fin"u8));
                break;
            case "oversize":
                wire.Write([(byte)(0x80 | (byte)FrameOpcode.Binary), 127, .. BigEndian((ulong)StreamFrame.MaxMessage + 1)]);
                break;
            case "short":
                wire.Write(RawFrames.Unmasked(FrameOpcode.Binary, [0, 0, 1]));
                break;
            case "window":
                for (var i = 0; i < MuxStream.InitialWindow / StreamFrame.MaxData; i++)
                {
                    wire.Write(RawFrames.Unmasked(FrameOpcode.Binary, StreamFrameTests.Message(1, StreamFrameType.Data, new byte[StreamFrame.MaxData])));
                }

                wire.Write(RawFrames.Unmasked(FrameOpcode.Binary, StreamFrameTests.Message(1, StreamFrameType.Data, [1])));
                break;
            case "credit":
                wire.Write(RawFrames.Unmasked(FrameOpcode.Binary, StreamFrameTests.Message(1, StreamFrameType.Credit, [0, 0, 1])));
                break;
        }

        await agent.Server.WriteAsync(wire.ToArray());

        FrameHeader header;
        byte[] payload;
        do
        {
            (header, payload) = await RawFrames.ReadClientFrameAsync(agent.Server).WaitAsync(Timeouts.Short);
        }
        while (header.Opcode != FrameOpcode.Close);

        Assert.Equal(ClosePayload(1002, expected), payload);
        Assert.Equal("protocol error: " + expected, await agent.Run.WaitAsync(Timeouts.Short));
        Assert.True(agent.Mux.IsEnded);
        await stream.ReceiveUntilCloseAsync().WaitAsync(Timeouts.Short);
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "server disconnected"), (stream.CloseStatus, stream.CloseStatusDescription));
    }

    private static byte[] ClosePayload(ushort status, string reason) => [.. BigEndian(status), .. Encoding.UTF8.GetBytes(reason)];

    private static byte[] BigEndian(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The agent's mux on the client end of a loopback connection; the test is the server at <see cref="Server"/>.</summary>
    private sealed class AgentEnd : IAsyncDisposable
    {
        private AgentEnd(SocketPair sockets, TimeSpan pingInterval)
        {
            Sockets = sockets;
            Mux = new StreamMux(sockets.RightStream, pingInterval, "server");
            Run = Mux.RunAsync(CancellationToken.None);
        }

        public SocketPair Sockets { get; }

        /// <summary>The server's end of the connection, read and written raw.</summary>
        public Stream Server => Sockets.LeftStream;

        public StreamMux Mux { get; }

        public Task<string> Run { get; }

        public static async Task<AgentEnd> StartAsync(TimeSpan? pingInterval = null) =>
            new(await SocketPair.CreateAsync(), pingInterval ?? TimeSpan.FromMinutes(10));

        public async ValueTask DisposeAsync()
        {
            await Mux.DisposeAsync();
            await Run.WaitAsync(Timeouts.Short);
            Sockets.Dispose();
        }
    }
}
