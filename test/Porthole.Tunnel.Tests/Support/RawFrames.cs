using System.Buffers;
using System.Buffers.Binary;
using Porthole.Tunnel.Frames;

namespace Porthole.Tunnel.Tests.Support;

/// <summary>WebSocket frames written and read by hand, for tests that speak the wire directly to a relay or a mux.</summary>
internal static class RawFrames
{
    /// <summary>A client frame, masked with a fixed key.</summary>
    public static byte[] Masked(FrameOpcode opcode, ReadOnlySpan<byte> payload, bool fin = true) => Frame(opcode, payload, fin, [0x12, 0x34, 0x56, 0x78]);

    /// <summary>A server frame: FIN set, no mask.</summary>
    public static byte[] Unmasked(FrameOpcode opcode, ReadOnlySpan<byte> payload) => Frame(opcode, payload, fin: true, key: null);

    private static byte[] Frame(FrameOpcode opcode, ReadOnlySpan<byte> payload, bool fin, byte[]? key)
    {
        var lengthBytes = payload.Length switch { <= 125 => 0, <= ushort.MaxValue => 2, _ => 8 };
        var keyBytes = key?.Length ?? 0;
        var frame = new byte[2 + lengthBytes + keyBytes + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | (byte)opcode);
        var maskBit = key is null ? 0 : 0x80;
        switch (lengthBytes)
        {
            case 0:
                frame[1] = (byte)(maskBit | payload.Length);
                break;
            case 2:
                frame[1] = (byte)(maskBit | 126);
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                frame[1] = (byte)(maskBit | 127);
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                break;
        }

        var start = 2 + lengthBytes + keyBytes;
        key?.CopyTo(frame, 2 + lengthBytes);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[start + i] = (byte)(key is null ? payload[i] : payload[i] ^ key[i % 4]);
        }

        return frame;
    }

    /// <summary>Reads one client frame (it must be masked) from <paramref name="stream"/>: its header and its unmasked payload.</summary>
    public static async Task<(FrameHeader Header, byte[] Payload)> ReadClientFrameAsync(Stream stream)
    {
        var start = new byte[2];
        await stream.ReadExactlyAsync(start);
        var lengthBytes = (start[1] & 0x7F) switch { 126 => 2, 127 => 8, _ => 0 };
        var rest = new byte[lengthBytes + ((start[1] & 0x80) != 0 ? 4 : 0)];
        await stream.ReadExactlyAsync(rest);
        var status = FrameHeader.TryRead(new ReadOnlySequence<byte>([.. start, .. rest]), out var header, out var error);
        Assert.True(status == OperationStatus.Done, error);
        var payload = new byte[header.PayloadLength];
        await stream.ReadExactlyAsync(payload);
        var mask = header.Mask;
        FrameMask.UnmaskCopy(payload, payload, ref mask);
        return (header, payload);
    }
}
