using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// Framing of a data WebSocket. Binary messages carry the stream's bytes in order. A text message
/// <c>fin</c> means "the sender will send no more bytes" (TCP half-close), which WebSocket's own close
/// frame cannot express because it ends both directions. The close frame ends the session; its
/// description carries the reason a client can show.
/// </summary>
public static class DataFrames
{
    /// <summary>The half-close marker.</summary>
    public static ReadOnlyMemory<byte> Fin { get; } = Encoding.ASCII.GetBytes("fin");

    /// <summary>Largest text message a data WebSocket accepts.</summary>
    public const int MaxControlFrameBytes = 256;

    /// <summary>Most plaintext bytes one TLS record carries (RFC 8446 section 5.1; TLS 1.2 alike).</summary>
    public const int TlsRecordPayloadBytes = 16 * 1024;

    /// <summary>
    /// Header of a masked (client-to-server) frame whose payload is over 65 535 bytes: 2 bytes, a 64-bit length and
    /// the 4-byte mask (RFC 6455 section 5.2). Frames from the server carry no mask and so 4 bytes fewer.
    /// </summary>
    public const int MaskedLargeHeaderBytes = 2 + 8 + 4;

    /// <summary>TLS records a full message fills, header included.</summary>
    public const int RecordsPerMessage = 8;

    /// <summary>
    /// Default buffer size of a pump, and so the largest message it sends: <see cref="RecordsPerMessage"/> TLS records
    /// exactly, header included. <c>SslStream</c> cuts a write into 16 KiB records, so a payload of whole records plus
    /// its header would cost one more record for the header's bytes on every message: one more encryption call, send
    /// and receive on each TLS leg (seen with strace, docs/performance.md). Eight records (128 KiB) rather than four:
    /// with the server's 64 KiB transport blocks, −10…−14 % server CPU per GB over TLS in same-run A/Bs (ab/15); a
    /// busy session's buffers are that much larger, an idle one's are not (<see cref="AdaptiveBuffer"/>). It leaves room
    /// for a stream frame's header too: a message the server or the agent carries on the agent's streams connection
    /// is that many bytes longer there, and at the full size it spilled one byte into a ninth record on the agent's leg.
    /// </summary>
    public const int DefaultBufferSize = RecordsPerMessage * TlsRecordPayloadBytes - MaskedLargeHeaderBytes - Streams.StreamFrame.HeaderLength;

    /// <summary>Whether a text message is the half-close marker.</summary>
    public static bool IsFin(ReadOnlySpan<byte> text) => text.SequenceEqual(Fin.Span);

    /// <summary>
    /// The payload of a close frame (RFC 6455 section 5.5.1): the status, big-endian, then the reason clipped to fit.
    /// A stream's close carries the same (docs/design/agent-streams.md).
    /// </summary>
    public static byte[] ClosePayload(WebSocketCloseStatus status, string reason)
    {
        var clipped = ClipReason(reason);
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(clipped)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        Encoding.UTF8.GetBytes(clipped, payload.AsSpan(2));
        return payload;
    }

    /// <summary>
    /// Clips a close reason to what a WebSocket close frame can carry (123 bytes of UTF-8, RFC 6455 §5.5).
    /// </summary>
    public static string ClipReason(string reason)
    {
        const int MaxBytes = 123;
        if (Encoding.UTF8.GetByteCount(reason) <= MaxBytes)
        {
            return reason;
        }

        var end = reason.Length;
        while (end > 0 && Encoding.UTF8.GetByteCount(reason.AsSpan(0, end)) > MaxBytes - 3)
        {
            end--;
        }

        // Never cut between the two halves of a surrogate pair.
        if (end > 0 && char.IsHighSurrogate(reason[end - 1]))
        {
            end--;
        }

        return string.Concat(reason.AsSpan(0, end), "...");
    }
}
