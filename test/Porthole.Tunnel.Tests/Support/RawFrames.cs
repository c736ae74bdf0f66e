using System.Buffers.Binary;
using Porthole.Tunnel.Frames;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>WebSocket frames written by hand, for tests that speak the wire directly to a relay.</summary>
internal static class RawFrames
{
    /// <summary>A client frame, masked with a fixed key.</summary>
    public static byte[] Masked(FrameOpcode opcode, ReadOnlySpan<byte> payload, bool fin = true)
    {
        byte[] key = [0x12, 0x34, 0x56, 0x78];
        var lengthBytes = payload.Length switch { <= 125 => 0, <= ushort.MaxValue => 2, _ => 8 };
        var frame = new byte[2 + lengthBytes + 4 + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | (byte)opcode);
        switch (lengthBytes)
        {
            case 0:
                frame[1] = (byte)(0x80 | payload.Length);
                break;
            case 2:
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                break;
        }

        key.CopyTo(frame, 2 + lengthBytes);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[2 + lengthBytes + 4 + i] = (byte)(payload[i] ^ key[i % 4]);
        }

        return frame;
    }

    /// <summary>A server frame of at most 125 bytes: FIN set, no mask.</summary>
    public static byte[] Unmasked(FrameOpcode opcode, ReadOnlySpan<byte> payload) => [(byte)(0x80 | (byte)opcode), (byte)payload.Length, .. payload];
}
