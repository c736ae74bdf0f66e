using System.Net.WebSockets;
using System.Text;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;

namespace Porthole.Tunnel.Tests.Relay;

public sealed class DataFramesTests
{
    [Fact]
    public async Task DefaultBufferSize_AClientMessageOfThatSizeFillsTheTlsRecordsItNeeds_AndNoMore()
    {
        // What the real client WebSocket writes for one full pump buffer: header and payload together must end just
        // inside the last of RecordsPerMessage records, or SslStream sends a tiny extra record for the last bytes of
        // every message.
        var wire = new RecordingStream();
        using var client = WebSocket.CreateFromStream(wire, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });

        await client.SendAsync(new byte[DataFrames.DefaultBufferSize], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        Assert.InRange(wire.BytesWritten, (DataFrames.RecordsPerMessage * DataFrames.TlsRecordPayloadBytes) - 16, DataFrames.RecordsPerMessage * DataFrames.TlsRecordPayloadBytes);
    }

    [Fact]
    public async Task DefaultBufferSize_AsAStreamFrameTheAgentSends_FillsTheSameRecords()
    {
        // The agent's streams connection carries a full pump buffer behind a stream header too (ClientFrameTransport
        // writes a frame in one write): it must still fit, or every such frame costs a 5-byte ninth record.
        var wire = new RecordingStream();
        await using var mux = new StreamMux(wire, TimeSpan.FromMinutes(1), "server");
        var stream = mux.Accept(1);

        await stream.SendAsync(new byte[DataFrames.DefaultBufferSize], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        Assert.InRange(wire.BytesWritten, ((DataFrames.RecordsPerMessage - 1) * DataFrames.TlsRecordPayloadBytes) + 1, DataFrames.RecordsPerMessage * DataFrames.TlsRecordPayloadBytes);
    }

    [Fact]
    public async Task DefaultBufferSize_TheServerRelayingSuchAMessageStaysWithinTheSameRecords()
    {
        var wire = new RecordingStream();
        using var server = WebSocket.CreateFromStream(wire, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });

        await server.SendAsync(new byte[DataFrames.DefaultBufferSize], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        Assert.InRange(wire.BytesWritten, (DataFrames.RecordsPerMessage - 1) * DataFrames.TlsRecordPayloadBytes + 1, DataFrames.RecordsPerMessage * DataFrames.TlsRecordPayloadBytes);
    }

    /// <summary>A write-only stream that counts what a WebSocket writes to it.</summary>
    private sealed class RecordingStream : Stream
    {
        public long BytesWritten { get; private set; }

        // WebSocket.CreateFromStream insists on a readable stream; these tests only send.
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => BytesWritten;

        public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => BytesWritten += count;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            BytesWritten += buffer.Length;
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Fact]
    public void Fin_IsTheAsciiTextFin()
    {
        Assert.Equal("fin", Encoding.ASCII.GetString(DataFrames.Fin.Span));
        Assert.True(DataFrames.IsFin("fin"u8));
        Assert.False(DataFrames.IsFin("FIN"u8));
        Assert.False(DataFrames.IsFin("fin\n"u8));
        Assert.False(DataFrames.IsFin(""u8));
    }

    [Theory]
    [InlineData("")]
    [InlineData("done")]
    [InlineData("target connection failed: connection reset by peer")]
    public void ClipReason_KeepsShortReasonsUnchanged(string reason)
    {
        Assert.Same(reason, DataFrames.ClipReason(reason));
    }

    [Fact]
    public void ClipReason_KeepsReasonOfExactly123BytesUnchanged()
    {
        var reason = new string('x', 123);

        Assert.Equal(reason, DataFrames.ClipReason(reason));
    }

    [Theory]
    [InlineData('x', 124)]
    [InlineData('x', 10_000)]
    [InlineData('é', 62)] // 124 bytes
    [InlineData('é', 500)]
    [InlineData('€', 200)] // 3 bytes each
    public void ClipReason_ClipsLongReasonsTo123Utf8BytesWithEllipsis(char c, int count)
    {
        var reason = "target connection failed: " + new string(c, count);

        var clipped = DataFrames.ClipReason(reason);

        Assert.InRange(Encoding.UTF8.GetByteCount(clipped), 100, 123);
        Assert.EndsWith("...", clipped, StringComparison.Ordinal);
        Assert.StartsWith(clipped[..^3], reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ClipReason_NeverSplitsASurrogatePair()
    {
        // Emoji are 4 UTF-8 bytes and two UTF-16 chars; a cut between the halves leaves an invalid string
        // that the close frame would carry as U+FFFD.
        var reason = "a" + string.Concat(Enumerable.Repeat("😀", 40));

        var clipped = DataFrames.ClipReason(reason);

        Assert.True(Encoding.UTF8.GetByteCount(clipped) <= 123);
        Assert.EndsWith("...", clipped, StringComparison.Ordinal);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var exception = Record.Exception(() => strict.GetBytes(clipped));
        Assert.Null(exception);
    }
}
