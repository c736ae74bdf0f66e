using System.Buffers;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// The buffer of one pump direction: a small pooled buffer while the direction is quiet or interactive, the full-size
/// one while data streams. A pump's pending read holds its buffer for as long as the peer is silent, so an idle
/// session costs only the small buffers (issue 7: ≤ 64 KiB per idle TLS session on the server), while a bulk
/// transfer still moves up to <see cref="LargeSize"/> bytes per read. Unlike zero-byte reads it needs nothing from
/// the stream or WebSocket underneath: a read that does not fit is simply split, which the data framing allows
/// (binary messages may be fragmented; the 3-byte <c>fin</c> always fits).
/// </summary>
public sealed class AdaptiveBuffer : IDisposable
{
    /// <summary>
    /// Size of the buffer a quiet direction holds: a keystroke or a terminal line fits, anything larger grows the buffer
    /// on its first read. 1 KiB rather than 4 saved 6–10 KiB per idle session on the server at 1 000 sessions, with the
    /// same 4 KiB round-trip time (docs/performance.md).
    /// </summary>
    public const int SmallSize = 1024;

    private byte[]? _array;
    private bool _large;

    /// <param name="largeSize">The most one read may return while data streams.</param>
    public AdaptiveBuffer(int largeSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(largeSize, 1);
        LargeSize = largeSize;
        _array = ArrayPool<byte>.Shared.Rent(Math.Min(SmallSize, largeSize));
    }

    /// <summary>The size while data streams.</summary>
    public int LargeSize { get; }

    /// <summary>The memory for the next read.</summary>
    public Memory<byte> Memory => (_array ?? throw new ObjectDisposedException(nameof(AdaptiveBuffer))).AsMemory(0, _large ? LargeSize : Math.Min(SmallSize, LargeSize));

    /// <summary>
    /// Adapts to a read that returned <paramref name="count"/> bytes into <see cref="Memory"/>: a full small buffer means
    /// more is coming (grow); a read smaller than the small buffer means the burst is over (shrink). Call it only once
    /// the bytes have been used, since the memory may change.
    /// </summary>
    public void Observe(int count)
    {
        if (!_large && count >= SmallSize && LargeSize > SmallSize)
        {
            Swap(LargeSize, large: true);
        }
        else if (_large && count < SmallSize)
        {
            Swap(SmallSize, large: false);
        }
    }

    private void Swap(int size, bool large)
    {
        var old = _array;
        _array = ArrayPool<byte>.Shared.Rent(size);
        _large = large;
        if (old is not null)
        {
            ArrayPool<byte>.Shared.Return(old);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
