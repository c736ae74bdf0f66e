using System.Buffers;
using System.Buffers.Binary;

namespace Porthole.Tunnel.Frames;

/// <summary>
/// The header of one WebSocket frame (RFC 6455 section 5.2): masked as a client sends it, unmasked as a server does,
/// no extension bits (Porthole negotiates none). Reading never throws on partial input; it says whether it needs more bytes.
/// </summary>
/// <param name="Fin">Whether this frame ends its message.</param>
/// <param name="Opcode">What the frame carries.</param>
/// <param name="PayloadLength">Bytes of payload after the header.</param>
/// <param name="Mask">The masking key, as the little-endian <see cref="uint"/> of its four bytes.</param>
/// <param name="HeaderLength">Bytes of the header itself: 6, 8 or 14 for a masked frame, 2, 4 or 10 for an unmasked one.</param>
public readonly record struct FrameHeader(bool Fin, FrameOpcode Opcode, long PayloadLength, uint Mask, int HeaderLength)
{
    /// <summary>Longest header a frame can have: 2 bytes, a 64-bit length, the 4-byte mask.</summary>
    public const int MaxLength = 14;

    /// <summary>Longest header the server writes: it never masks (RFC 6455 section 5.1).</summary>
    public const int MaxUnmaskedLength = 10;

    /// <summary>Most payload a control frame (close, ping, pong) may carry (RFC 6455 section 5.5).</summary>
    public const int MaxControlPayload = 125;

    /// <summary>Whether the opcode is close, ping or pong.</summary>
    public bool IsControl => ((byte)Opcode & 0x8) != 0;

    /// <summary>
    /// Reads a client frame's header from the start of <paramref name="input"/>: <see cref="OperationStatus.Done"/>
    /// with the header, <see cref="OperationStatus.NeedMoreData"/> when the header is not all there yet, or
    /// <see cref="OperationStatus.InvalidData"/> with the rule it breaks in <paramref name="error"/>. With
    /// <paramref name="fromServer"/>, a server's frame instead, which must not be masked (RFC 6455 section 5.1).
    /// </summary>
    public static OperationStatus TryRead(in ReadOnlySequence<byte> input, out FrameHeader header, out string? error, bool fromServer = false)
    {
        header = default;
        error = null;
        Span<byte> bytes = stackalloc byte[MaxLength];
        var available = (int)Math.Min(input.Length, MaxLength);
        if (available < 2)
        {
            return OperationStatus.NeedMoreData;
        }

        input.Slice(0, available).CopyTo(bytes);
        var first = bytes[0];
        var second = bytes[1];
        var fin = (first & 0x80) != 0;
        var opcode = (FrameOpcode)(first & 0x0F);
        if ((first & 0x70) != 0)
        {
            error = "reserved bits set without a negotiated extension";
            return OperationStatus.InvalidData;
        }

        if (opcode is not (FrameOpcode.Continuation or FrameOpcode.Text or FrameOpcode.Binary or FrameOpcode.Close or FrameOpcode.Ping or FrameOpcode.Pong))
        {
            error = $"reserved opcode {(int)opcode}";
            return OperationStatus.InvalidData;
        }

        var masked = (second & 0x80) != 0;
        if (masked == fromServer)
        {
            error = fromServer ? "masked frame from a server" : "unmasked frame from a client";
            return OperationStatus.InvalidData;
        }

        var lengthCode = second & 0x7F;
        var lengthBytes = lengthCode switch { 126 => 2, 127 => 8, _ => 0 };
        var headerLength = 2 + lengthBytes + (masked ? 4 : 0);
        if (available < headerLength)
        {
            return OperationStatus.NeedMoreData;
        }

        long length = lengthCode switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]),
            _ => lengthCode,
        };
        if (length < 0)
        {
            error = "payload length with its most significant bit set";
            return OperationStatus.InvalidData;
        }

        var mask = masked ? BinaryPrimitives.ReadUInt32LittleEndian(bytes[(2 + lengthBytes)..]) : 0;
        header = new FrameHeader(fin, opcode, length, mask, headerLength);
        if (header.IsControl && (!fin || length > MaxControlPayload))
        {
            error = "fragmented or oversized control frame";
            return OperationStatus.InvalidData;
        }

        return OperationStatus.Done;
    }

    /// <summary>
    /// Writes the header of a masked (client-to-server) frame with <paramref name="mask"/> as its key (the little-endian
    /// <see cref="uint"/> of the four key bytes, as <see cref="FrameMask"/> takes it); returns its length.
    /// </summary>
    public static int WriteMasked(Span<byte> destination, bool fin, FrameOpcode opcode, long payloadLength, uint mask)
    {
        var length = WriteUnmasked(destination, fin, opcode, payloadLength);
        destination[1] |= 0x80;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[length..], mask);
        return length + 4;
    }

    /// <summary>Writes the header of an unmasked (server-to-client) frame; returns its length.</summary>
    public static int WriteUnmasked(Span<byte> destination, bool fin, FrameOpcode opcode, long payloadLength)
    {
        destination[0] = (byte)((fin ? 0x80 : 0) | (byte)opcode);
        if (payloadLength <= 125)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }

        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }

        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return 10;
    }
}
