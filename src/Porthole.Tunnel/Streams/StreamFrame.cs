using System.Buffers.Binary;
using System.Text.Unicode;

namespace Porthole.Tunnel.Streams;

/// <summary>What a stream frame carries (docs/design/agent-streams.md, "Wire format").</summary>
public enum StreamFrameType : byte
{
    /// <summary>Session bytes, counted against the receiver's window.</summary>
    Data = 0,

    /// <summary>The sender will send no more bytes (TCP half-close); no payload.</summary>
    Fin = 1,

    /// <summary>The stream is over from the sender's side: a status (u16) and a UTF-8 reason, as a WebSocket close frame.</summary>
    Close = 2,

    /// <summary>A u32 of bytes the receiver of this frame may add to its window for the stream.</summary>
    Credit = 3,
}

/// <summary>
/// One binary WebSocket message on the agent's streams connection: a stream id (u32, big-endian), a type (u8) and
/// the payload. Parsing never throws; bad input is an expected case with a reason.
/// </summary>
/// <param name="StreamId">The stream the frame belongs to; assigned by the server.</param>
/// <param name="Type">What the frame carries.</param>
/// <param name="Payload">Everything after the header.</param>
public readonly record struct StreamFrame(uint StreamId, StreamFrameType Type, ReadOnlyMemory<byte> Payload)
{
    /// <summary>Bytes before the payload: the stream id and the type.</summary>
    public const int HeaderLength = 5;

    /// <summary>
    /// Most session bytes one <see cref="StreamFrameType.Data"/> frame carries: one full pump buffer, so a relay's read
    /// travels as one frame, and a frame stays well inside the whole-frame limits of both relays.
    /// </summary>
    public const int MaxData = 128 * 1024;

    /// <summary>The largest message either side accepts on the streams connection.</summary>
    public const int MaxMessage = HeaderLength + MaxData;

    /// <summary>Longest close reason, as in a WebSocket close frame (RFC 6455 section 5.5).</summary>
    public const int MaxReasonBytes = 123;

    /// <summary>
    /// Parses one message. Returns <c>null</c> and the frame, or the rule the message breaks (truncated header, unknown
    /// type, oversized data, a fin or credit of the wrong length, a close status that may not be sent, a reason that is
    /// not UTF-8).
    /// </summary>
    public static string? TryParse(ReadOnlyMemory<byte> message, out StreamFrame frame)
    {
        frame = default;
        if (message.Length < HeaderLength)
        {
            return $"stream frame of {message.Length} bytes is shorter than its {HeaderLength}-byte header";
        }

        var span = message.Span;
        var id = BinaryPrimitives.ReadUInt32BigEndian(span);
        var type = (StreamFrameType)span[4];
        var payload = message[HeaderLength..];
        var error = type switch
        {
            StreamFrameType.Data => payload.Length > MaxData ? $"data frame of {payload.Length} bytes is over the {MaxData}-byte limit" : null,
            StreamFrameType.Fin => payload.Length != 0 ? "fin frame with a payload" : null,
            StreamFrameType.Close => InvalidClose(payload.Span),
            StreamFrameType.Credit => payload.Length != 4 ? "credit frame whose payload is not 4 bytes" : null,
            _ => $"unknown stream frame type {(byte)type}",
        };
        if (error is null)
        {
            frame = new StreamFrame(id, type, payload);
        }

        return error;
    }

    /// <summary>The bytes a <see cref="StreamFrameType.Credit"/> frame grants.</summary>
    public uint Credit => BinaryPrimitives.ReadUInt32BigEndian(Payload.Span);

    /// <summary>Writes the header at the start of <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, uint streamId, StreamFrameType type)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, streamId);
        destination[4] = (byte)type;
    }

    /// <summary>
    /// Whether a close frame may carry <paramref name="status"/>. The sender checks it too: a status the receiver refuses
    /// is a protocol error that ends the whole connection, every other stream with it.
    /// </summary>
    internal static bool IsSendableCloseStatus(int status) => status is (>= 1000 and <= 1014 and not (1004 or 1005 or 1006)) or (>= 3000 and <= 4999);

    private static string? InvalidClose(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0)
        {
            return null;
        }

        if (payload.Length == 1 || payload.Length > 2 + MaxReasonBytes)
        {
            return $"close frame with a {payload.Length}-byte payload";
        }

        var status = BinaryPrimitives.ReadUInt16BigEndian(payload);
        return !IsSendableCloseStatus(status) ? $"close status {status} may not be sent"
            : !Utf8.IsValid(payload[2..]) ? "close reason is not UTF-8"
            : null;
    }
}
