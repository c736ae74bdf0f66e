using System.Buffers;
using System.Runtime.CompilerServices;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The socket stream of the agent's and the CLI's connections to the server, under TLS, on the read side: while data
/// streams in, one socket receive fills a large pooled buffer and the TLS layer's reads are served from it.
/// <c>SslStream</c> reads one record at a time, each after a zero-byte read (which .NET turns into a 1-byte
/// <c>MSG_PEEK</c>): two receive calls per 16 KiB, sixteen per relay message, where one or two would do (strace of the
/// agent, docs/performance.md). The price is one copy of each byte; it is paid only while data streams.
/// <para>
/// No buffer is held while the connection is idle: the buffer is rented only for a read that follows a completed
/// zero-byte read (so data is known to be waiting) and returned as soon as it has been drained. A read that does not
/// follow one goes straight into the caller's buffer, as without this stream.
/// </para>
/// </summary>
public sealed class ReadAheadStream(Stream inner) : LayeredStream(inner)
{
    /// <summary>Most bytes one receive takes: two relay messages with their TLS overhead.</summary>
    public const int ReadAheadSize = 256 * 1024;

    private byte[]? _buffer;
    private int _start;
    private int _end;

    // Set when a zero-byte read has completed and no real read has happened since: data is waiting in the socket.
    private bool _dataWaiting;

    /// <summary>Bytes received and not yet read.</summary>
    public int Buffered => _end - _start;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Buffered > 0)
        {
            return Take(buffer.Span);
        }

        if (buffer.IsEmpty)
        {
            // The TLS layer waits for data without a buffer of its own; so do we.
            var zero = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _dataWaiting = true;
            return zero;
        }

        if (!_dataWaiting || buffer.Length >= ReadAheadSize)
        {
            _dataWaiting = false;
            return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        _dataWaiting = false;
        _buffer = ArrayPool<byte>.Shared.Rent(ReadAheadSize);
        int received;
        try
        {
            received = await Inner.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReturnBuffer();
            throw;
        }

        (_start, _end) = (0, received);
        return Take(buffer.Span);
    }

    public override int Read(Span<byte> buffer) => Buffered > 0 ? Take(buffer) : Inner.Read(buffer);

    protected override void OnDisposed() => ReturnBuffer();

    /// <summary>Copies buffered bytes out; the buffer goes back to the pool once it is empty (an end of stream too).</summary>
    private int Take(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, Buffered);
        if (_buffer is not null)
        {
            _buffer.AsSpan(_start, count).CopyTo(destination);
            _start += count;
            if (Buffered == 0)
            {
                ReturnBuffer();
            }
        }

        return count;
    }

    private void ReturnBuffer()
    {
        if (_buffer is { } buffer)
        {
            (_buffer, _start, _end) = (null, 0, 0);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
