using System.Buffers;
using System.Net.WebSockets;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Frames;

/// <summary>
/// Frame headers as .NET's own WebSocket client writes them (masked, three length encodings), read back byte by byte;
/// and the rules a client frame must keep (RFC 6455 section 5).
/// </summary>
public sealed class FrameHeaderTests
{
    [Theory]
    [InlineData(0, 6)]
    [InlineData(125, 6)]
    [InlineData(126, 8)]
    [InlineData(65_535, 8)]
    [InlineData(65_536, 14)]
    public async Task TryRead_ReadsWhatARealClientWrites_AndNeedsMoreDataUntilTheWholeHeaderIsIn(int payloadLength, int headerLength)
    {
        var wire = await ClientWireAsync(ws => ws.SendAsync(new byte[payloadLength], WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None));

        for (var prefix = 0; prefix < headerLength; prefix++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, FrameHeader.TryRead(new ReadOnlySequence<byte>(wire, 0, prefix), out _, out _));
        }

        Assert.Equal(OperationStatus.Done, FrameHeader.TryRead(new ReadOnlySequence<byte>(wire), out var header, out var error));
        Assert.Null(error);
        Assert.Equal(new FrameHeader(false, FrameOpcode.Binary, payloadLength, header.Mask, headerLength), header);
        Assert.Equal(headerLength + payloadLength, wire.Length);
    }

    [Theory]
    [InlineData(new byte[] { 0x82, 0x05, 1, 2, 3, 4, 5 }, "unmasked frame from a client")]
    [InlineData(new byte[] { 0xC2, 0x80, 0, 0, 0, 0 }, "reserved bits set without a negotiated extension")]
    [InlineData(new byte[] { 0x83, 0x80, 0, 0, 0, 0 }, "reserved opcode 3")]
    [InlineData(new byte[] { 0x09, 0x80, 0, 0, 0, 0 }, "fragmented or oversized control frame")]
    [InlineData(new byte[] { 0x89, 0xFE, 0, 126, 0, 0, 0, 0 }, "fragmented or oversized control frame")]
    [InlineData(new byte[] { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "payload length with its most significant bit set")]
    public void TryRead_RefusesFramesThatBreakTheRules(byte[] wire, string expected)
    {
        Assert.Equal(OperationStatus.InvalidData, FrameHeader.TryRead(new ReadOnlySequence<byte>(wire), out _, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(1_000_000)]
    public async Task WriteUnmasked_IsReadByARealClient(int payloadLength)
    {
        var payload = new byte[payloadLength];
        Random.Shared.NextBytes(payload);
        var wire = new byte[FrameHeader.MaxUnmaskedLength + payloadLength];
        var header = FrameHeader.WriteUnmasked(wire, fin: true, FrameOpcode.Binary, payloadLength);
        payload.CopyTo(wire, header);

        using var client = WebSocket.CreateFromStream(new MemoryStream(wire, 0, header + payloadLength), new WebSocketCreationOptions { IsServer = false });
        var (type, received) = await client.ReceiveMessageAsync().WaitAsync(Timeouts.Test);

        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(payload, received);
    }

    /// <summary>The bytes a real client WebSocket puts on the wire for <paramref name="send"/>.</summary>
    private static async Task<byte[]> ClientWireAsync(Func<WebSocket, Task> send)
    {
        var wire = new MemoryStream();
        using var client = WebSocket.CreateFromStream(wire, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        await send(client);
        return wire.ToArray();
    }
}
