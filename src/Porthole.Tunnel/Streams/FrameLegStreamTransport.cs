using System.Buffers;
using System.Net.WebSockets;
using Porthole.Tunnel.Frames;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// Stream frames read and written on a connection's own pipes (<see cref="FrameLeg"/>): the server's side of the
/// streams connection. Each stream frame is one unfragmented binary WebSocket frame from the agent (what a WebSocket
/// sends for a whole message); its payload is unmasked once, into the buffer the stream reads from.
/// </summary>
internal sealed class FrameLegStreamTransport(FrameLeg leg) : IStreamTransport
{
    /// <summary>The connection.</summary>
    public FrameLeg Leg => leg;

    public async Task<string> ReceiveAsync(StreamMux mux, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await leg.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (read.IsCanceled)
            {
                if (leg.IsSilent)
                {
                    return leg.SilenceReason;
                }

                // Someone else's cancellation (Kestrel cancels pending reads when it stops); the mux goes on.
                leg.Input.AdvanceTo(read.Buffer.Start);
                continue;
            }

            var buffer = read.Buffer;
            var (consumed, outcome) = Parse(mux, buffer);
            leg.Input.AdvanceTo(consumed, buffer.End);
            switch (outcome)
            {
                case { Close: { } close }:
                    await leg.SendControlAsync(FrameOpcode.Close, close).ConfigureAwait(false);
                    return $"closed by the {mux.Peer}" + (close.Length > 2 ? ": " + System.Text.Encoding.UTF8.GetString(close, 2, close.Length - 2) : "");
                case { Error: { } error }:
                    await leg.CloseOutputAsync(WebSocketCloseStatus.ProtocolError, error).ConfigureAwait(false);
                    return "protocol error: " + error;
            }

            if (read.IsCompleted)
            {
                return "connection closed without a close frame";
            }
        }
    }

    /// <summary>What a pass over the input ended with, if it ended the connection: the peer's close frame, or a broken rule.</summary>
    private readonly record struct Outcome(byte[]? Close, string? Error);

    /// <summary>Delivers every whole frame in <paramref name="input"/>; returns where the rest begins.</summary>
    private (SequencePosition Consumed, Outcome Outcome) Parse(StreamMux mux, ReadOnlySequence<byte> input)
    {
        var rest = input;
        while (true)
        {
            var status = FrameHeader.TryRead(rest, out var header, out var error);
            if (status == OperationStatus.NeedMoreData)
            {
                return (rest.Start, default);
            }

            if (error is not null)
            {
                return (rest.Start, new Outcome(null, error));
            }

            if (header.PayloadLength > StreamFrame.MaxMessage)
            {
                return (rest.Start, new Outcome(null, $"message over the {StreamFrame.MaxMessage}-byte limit"));
            }

            if (rest.Length - header.HeaderLength < header.PayloadLength)
            {
                return (rest.Start, default);
            }

            var masked = rest.Slice(header.HeaderLength, header.PayloadLength);
            rest = rest.Slice(masked.End);
            var mask = header.Mask;
            switch (header.Opcode)
            {
                case FrameOpcode.Ping:
                    leg.OwePong(FrameMask.Unmask(masked, mask));
                    continue;
                case FrameOpcode.Pong:
                    continue;
                case FrameOpcode.Close:
                    return (rest.Start, new Outcome(FrameMask.Unmask(masked, mask), null));
                case FrameOpcode.Binary when header.Fin:
                    error = Deliver(mux, masked, mask);
                    if (error is not null)
                    {
                        return (rest.Start, new Outcome(null, error));
                    }

                    continue;
                default:
                    return (rest.Start, new Outcome(null, header.Opcode == FrameOpcode.Text ? "text message on the streams connection" : "fragmented message on the streams connection"));
            }
        }
    }

    /// <summary>Unmasks one stream frame: a data payload straight into the pooled array its stream will own.</summary>
    private static string? Deliver(StreamMux mux, ReadOnlySequence<byte> masked, uint mask)
    {
        if (masked.Length < StreamFrame.HeaderLength)
        {
            return $"stream frame of {masked.Length} bytes is shorter than its {StreamFrame.HeaderLength}-byte header";
        }

        Span<byte> header = stackalloc byte[StreamFrame.HeaderLength];
        FrameMask.UnmaskCopy(masked.Slice(0, StreamFrame.HeaderLength), header, ref mask);
        var payload = masked.Slice(StreamFrame.HeaderLength);
        if ((StreamFrameType)header[4] == StreamFrameType.Data && payload.Length <= StreamFrame.MaxData)
        {
            var length = (int)payload.Length;
            var data = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
            FrameMask.UnmaskCopy(payload, data, ref mask);
            return mux.Deliver(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header), StreamFrameType.Data, default, data, 0, length);
        }

        // Anything else is small, or breaks a rule the parser names.
        var message = new byte[masked.Length];
        header.CopyTo(message);
        FrameMask.UnmaskCopy(payload, message.AsSpan(StreamFrame.HeaderLength), ref mask);
        var error = StreamFrame.TryParse(message, out var frame);
        return error ?? mux.Deliver(frame.StreamId, frame.Type, frame.Payload.Span, null, 0, 0);
    }

    public async ValueTask SendAsync(uint streamId, StreamFrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, CancellationToken stop)
    {
        if (!await leg.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new WebSocketException(WebSocketError.InvalidState, "the streams connection is closing");
        }

        try
        {
            WriteHeader(streamId, type, payload.Length);
            leg.Output.Write(payload.Span);
            if (!await leg.FlushAsync(stop).ConfigureAwait(false))
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the streams connection is closed");
            }
        }
        finally
        {
            leg.ExitWrite();
        }
    }

    /// <summary>Writes the WebSocket frame header and the stream header of a frame with <paramref name="payloadLength"/> bytes; under the leg's write lock.</summary>
    internal void WriteHeader(uint streamId, StreamFrameType type, long payloadLength)
    {
        var output = leg.Output;
        var span = output.GetSpan(FrameHeader.MaxUnmaskedLength + StreamFrame.HeaderLength);
        var length = FrameHeader.WriteUnmasked(span, fin: true, FrameOpcode.Binary, StreamFrame.HeaderLength + payloadLength);
        StreamFrame.WriteHeader(span[length..], streamId, type);
        output.Advance(length + StreamFrame.HeaderLength);
    }

    public Task CloseAsync(WebSocketCloseStatus status, string reason) => leg.CloseOutputAsync(status, reason);
}
