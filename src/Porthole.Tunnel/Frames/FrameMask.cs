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
