using System.Net.WebSockets;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// A data WebSocket seen as a byte stream, for code on the server that must speak a protocol inside a session
/// (the RFB handshake with a stored password). Reads hand the caller's buffer straight to the WebSocket, so nothing
/// is held back: after a handshake the same WebSocket can go on in <see cref="WebSocketRelay"/> without losing a byte.
/// The <c>fin</c> marker and a close frame both read as end of stream. Disposing does not close the WebSocket: its
/// owner does (see <c>TunnelConnectionStream</c> in the server for a stream that owns one).
/// </summary>
public class DataWebSocketStream(WebSocket webSocket) : Stream
{
    private readonly byte[] _control = new byte[DataFrames.MaxControlFrameBytes];
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!_ended && buffer.Length > 0)
        {
            var received = await webSocket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            switch (received.MessageType)
            {
                case WebSocketMessageType.Binary when received.Count > 0:
                    return received.Count;

                case WebSocketMessageType.Binary:
                    continue;

                case WebSocketMessageType.Text:
                    // Control frames are tiny; finish reading this one into our own buffer and check it is `fin`.
                    var length = received.Count;
                    buffer.Span[..length].CopyTo(_control);
                    while (!received.EndOfMessage && length < _control.Length)
                    {
                        var rest = await webSocket.ReceiveAsync(_control.AsMemory(length), cancellationToken).ConfigureAwait(false);
                        length += rest.Count;
                        received = rest;
                    }

                    if (!DataFrames.IsFin(_control.AsSpan(0, length)))
                    {
                        throw new IOException("unexpected control frame on data channel");
                    }

                    _ended = true;
                    break;

                default:
                    _ended = true;
                    break;
            }
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>One binary message per write; an empty write sends nothing (an empty message carries no data).</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty ? ValueTask.CompletedTask : webSocket.SendAsync(buffer, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("use ReadAsync");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("use WriteAsync");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
