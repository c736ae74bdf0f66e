using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Porthole.Tunnel.Frames;

/// <summary>
/// Unmasking of a client frame's payload (RFC 6455 section 5.3) fused with the copy to where it goes, so the relay
/// touches each byte once. The key is carried as a little-endian <see cref="uint"/> rotated to the position in the
/// payload, which lets a payload be unmasked in pieces as it arrives.
/// </summary>
public static class FrameMask
{
    /// <summary>Unmasks a payload that may span several buffers into <paramref name="destination"/>; rotates <paramref name="mask"/> past it.</summary>
    public static void UnmaskCopy(in ReadOnlySequence<byte> source, Span<byte> destination, ref uint mask)
    {
        foreach (var segment in source)
        {
            UnmaskCopy(segment.Span, destination, ref mask);
            destination = destination[segment.Length..];
        }
    }

    /// <summary>Unmasks a payload into a writer (a connection's output pipe) in whatever pieces it hands out.</summary>
    public static void UnmaskCopy(in ReadOnlySequence<byte> source, IBufferWriter<byte> destination, ref uint mask)
    {
        foreach (var segment in source)
        {
            var from = segment.Span;
            while (!from.IsEmpty)
            {
                var to = destination.GetSpan(1);
                var count = Math.Min(from.Length, to.Length);
                UnmaskCopy(from[..count], to, ref mask);
                destination.Advance(count);
                from = from[count..];
            }
        }
    }

    /// <summary>A small payload (a control frame's) unmasked into an array of its own.</summary>
    public static byte[] Unmask(in ReadOnlySequence<byte> source, uint mask)
    {
        var payload = new byte[source.Length];
        UnmaskCopy(source, payload, ref mask);
        return payload;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> XORed with <paramref name="mask"/>, and rotates
    /// <paramref name="mask"/> so that it fits the byte after the last one copied.
    /// </summary>
    public static void UnmaskCopy(ReadOnlySpan<byte> source, Span<byte> destination, ref uint mask)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("destination is shorter than source", nameof(destination));
        }

        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        var length = source.Length;
        nuint i = 0;

        if (Vector256.IsHardwareAccelerated && length >= Vector256<byte>.Count)
        {
            var key = Vector256.Create(mask).AsByte();
            for (; (int)i <= length - Vector256<byte>.Count; i += (nuint)Vector256<byte>.Count)
            {
                (Vector256.LoadUnsafe(ref from, i) ^ key).StoreUnsafe(ref to, i);
            }
        }
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<byte>.Count)
        {
            var key = Vector128.Create(mask).AsByte();
            for (; (int)i <= length - Vector128<byte>.Count; i += (nuint)Vector128<byte>.Count)
            {
                (Vector128.LoadUnsafe(ref from, i) ^ key).StoreUnsafe(ref to, i);
            }
        }

        // Vector widths are multiples of 4, so the key is still aligned with i here.
        var wide = mask | ((ulong)mask << 32);
        for (; (int)i <= length - sizeof(ulong); i += sizeof(ulong))
        {
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, i), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref from, i)) ^ wide);
        }

        var tail = mask;
        for (; (int)i < length; i++)
        {
            Unsafe.Add(ref to, i) = (byte)(Unsafe.Add(ref from, i) ^ (byte)tail);
            tail = BitOperations.RotateRight(tail, 8);
        }

        mask = BitOperations.RotateRight(mask, 8 * (length & 3));
    }
}
