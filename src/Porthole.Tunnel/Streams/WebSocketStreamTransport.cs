using System.Buffers;
using System.Net.WebSockets;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// Stream frames as binary messages of a <see cref="WebSocket"/>: the server's side of the streams connection when the
/// frame relay is off (no pipes to read it on). The agent has its own frames (<see cref="ClientFrameTransport"/>).
/// </summary>
internal sealed class WebSocketStreamTransport(WebSocket connection) : IStreamTransport
{
    // Most messages on the connection are credits, fins and closes; a data frame larger than this is read on into a
    // buffer of its own, which then travels to the stream without another copy.
    private const int SmallMessage = 1024;

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _small = new byte[SmallMessage];

    public async Task<string> ReceiveAsync(StreamMux mux, CancellationToken cancellationToken)
    {
        while (true)
        {
            var received = await connection.ReceiveAsync(_small.AsMemory(), cancellationToken).ConfigureAwait(false);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await WebSocketClosing.CloseOutputAsync(connection, WebSocketCloseStatus.NormalClosure, "bye").ConfigureAwait(false);
                return $"closed by the {mux.Peer}" + (string.IsNullOrEmpty(connection.CloseStatusDescription) ? "" : ": " + connection.CloseStatusDescription);
            }

            if (received.MessageType != WebSocketMessageType.Binary)
            {
                return await FailAsync("text message on the streams connection").ConfigureAwait(false);
            }

            var (message, length, rented) = (_small, received.Count, false);
            if (!received.EndOfMessage)
            {
                (message, rented) = (ArrayPool<byte>.Shared.Rent(StreamFrame.MaxMessage), true);
                _small.AsSpan(0, length).CopyTo(message);
                while (!received.EndOfMessage)
                {
                    if (length == StreamFrame.MaxMessage)
                    {
                        ArrayPool<byte>.Shared.Return(message);
                        return await FailAsync($"message over the {StreamFrame.MaxMessage}-byte limit").ConfigureAwait(false);
                    }

                    received = await connection.ReceiveAsync(message.AsMemory(length, StreamFrame.MaxMessage - length), cancellationToken).ConfigureAwait(false);
                    length += received.Count;
                }
            }

            var error = Dispatch(mux, message, length, rented);
            if (error is not null)
            {
                return await FailAsync(error).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Hands one message to its stream; a rented <paramref name="message"/> goes with it (or back to the pool).</summary>
    private static string? Dispatch(StreamMux mux, byte[] message, int length, bool rented)
    {
        var error = StreamFrame.TryParse(message.AsMemory(0, length), out var frame);
        if (error is not null)
        {
            Release(message, rented);
            return error;
        }

        if (frame.Type != StreamFrameType.Data)
        {
            var outcome = mux.Deliver(frame.StreamId, frame.Type, frame.Payload.Span, null, 0, 0);
            Release(message, rented);
            return outcome;
        }

        var payloadLength = length - StreamFrame.HeaderLength;
        if (rented)
        {
            return mux.Deliver(frame.StreamId, StreamFrameType.Data, default, message, StreamFrame.HeaderLength, payloadLength);
        }

        var copy = ArrayPool<byte>.Shared.Rent(Math.Max(payloadLength, 1));
        message.AsSpan(StreamFrame.HeaderLength, payloadLength).CopyTo(copy);
        return mux.Deliver(frame.StreamId, StreamFrameType.Data, default, copy, 0, payloadLength);
    }

    private static void Release(byte[] message, bool rented)
    {
        if (rented)
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    private async Task<string> FailAsync(string error)
    {
        await WebSocketClosing.CloseOutputAsync(connection, WebSocketCloseStatus.ProtocolError, error).ConfigureAwait(false);
        return "protocol error: " + error;
    }

    public async ValueTask SendAsync(uint streamId, StreamFrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, CancellationToken stop)
    {
        // One message: the header and the payload copied behind it (two frames would cost a TLS record more).
        var length = StreamFrame.HeaderLength + payload.Length;
        var message = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            StreamFrame.WriteHeader(message, streamId, type);
            payload.Span.CopyTo(message.AsSpan(StreamFrame.HeaderLength));
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await connection.SendAsync(message.AsMemory(0, length), WebSocketMessageType.Binary, endOfMessage: true, stop).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    public Task CloseAsync(WebSocketCloseStatus status, string reason) => WebSocketClosing.CloseOutputAsync(connection, status, reason);
}
