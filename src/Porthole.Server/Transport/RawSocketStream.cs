using System.Buffers;

namespace Porthole.Server.Transport;

/// <summary>
/// A connected socket as the <see cref="System.Net.Security.SslStream"/> of a <see cref="PortholeConnection"/> sees
/// it. Synchronous reads receive on the descriptor and, when nothing is there, wait in <c>poll</c> on the calling
/// thread: a hot connection's data goes from the kernel to its thread with no event-loop hop. Asynchronous reads wait
/// on the reactor without a buffer, for connections at rest. Under TLS, reads go through a read-ahead buffer, rented
/// only while data is flowing, so that a stream of records arrives in a few large receives; a plain connection's reads
/// receive straight into its pipe (<see cref="ReadsDirect"/>).
/// Writes are sent at once with a non-blocking send unless a batch is open (<see cref="BeginBatch"/>), in which case
/// they collect and leave together when it ends; what the socket does not take is queued and sent asynchronously,
/// so a writer on another connection's thread is never blocked by this one. Byte order is kept across all of them.
/// The agent's and CLI's <c>ReadAheadStream</c> and <c>BatchingStream</c> do the same over a <c>NetworkStream</c>; they are
/// not reused here because a <c>NetworkStream</c>'s synchronous calls wait through .NET's event thread once its socket
/// has been used asynchronously, the hop this transport removes, and because a resting wait here is the reactor's.
/// </summary>
internal sealed class RawSocketStream(int fd, Reactor.Registration readiness) : Stream, Tunnel.Tls.ITlsRecordSink
{
    private const int ReadAheadSize = 128 * 1024;

    private readonly int _fd = fd;
    private readonly Lock _sendLock = new();

    // Input: only one reader at a time (the SslStream above), so no lock.
    private byte[]? _readAhead;
    private int _readStart;
    private int _readEnd;

    // Output, guarded by _sendLock: bytes not sent yet, whether a batch is open, and the send draining the queue.
    private byte[]? _queued;
    private int _queuedStart;
    private int _queuedEnd;
    private bool _batching;
    private Task? _draining;
    private Exception? _sendFailure;
    private bool _detached;

    /// <summary>
    /// Whether reads receive straight into the caller's buffer (a plain connection's pipe block) rather than through the
    /// read-ahead buffer, which is for the SslStream's reads of a record or two at a time: its large receives take many
    /// records in one call.
    /// </summary>
    public bool ReadsDirect { get; set; }

    /// <summary>Whether an asynchronous read is woken on the reactor thread itself (set for a connection on the hot path).</summary>
    public bool WakeInline { get; set; }

    /// <summary>Whether bytes received are waiting in the read-ahead buffer.</summary>
    public bool HasBufferedInput => _readStart < _readEnd;

    /// <summary>Waits up to <paramref name="milliseconds"/> for input on this thread; true when some is there (or the socket ended).</summary>
    public bool WaitForInput(int milliseconds) => HasBufferedInput || SocketCalls.WaitReadable(_fd, milliseconds);

    public override int Read(Span<byte> destination)
    {
        while (true)
        {
            if (destination.IsEmpty)
            {
                // The SslStream asks with a zero-byte read before it takes a buffer of its own. Whatever is there already
                // goes into the read-ahead, one receive instead of a poll and then a receive per record on a hot thread;
                // only when nothing is there does the read wait.
                if (!HasBufferedInput && (ReadsDirect || Refill() < 0))
                {
                    WaitForInput(-1);
                }

                return 0;
            }

            if (TakeBuffered(destination, out var taken))
            {
                return taken;
            }

            if (ReadsDirect)
            {
                var direct = SocketCalls.TryReceive(_fd, destination);
                if (direct >= 0)
                {
                    return direct;
                }
            }
            else
            {
                var received = Refill();
                if (received == 0)
                {
                    return 0;
                }

                if (received > 0)
                {
                    continue;
                }
            }

            SocketCalls.WaitReadable(_fd, -1);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (!destination.IsEmpty && TakeBuffered(destination.Span, out var taken))
            {
                return taken;
            }

            if (destination.IsEmpty && HasBufferedInput)
            {
                return 0;
            }

            if (ReadsDirect && destination.IsEmpty)
            {
                // A zero-byte read only waits: the data stays in the socket until a pipe block takes it.
                if (!SocketCalls.WaitReadable(_fd, 0))
                {
                    await readiness.WhenReadable(WakeInline).WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                return 0;
            }

            if (ReadsDirect)
            {
                var direct = SocketCalls.TryReceive(_fd, destination.Span);
                if (direct >= 0)
                {
                    return direct;
                }

                await readiness.WhenReadable(WakeInline).WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            // Whatever is there already is taken without a round through the reactor; for a zero-byte read that means
            // the read-ahead buffer is rented only once data has come.
            var received = Refill();
            if (received == 0 || (received > 0 && destination.IsEmpty))
            {
                return 0;
            }

            if (received > 0)
            {
                continue;
            }

            // Nothing there: wait on the reactor holding no buffer.
            await readiness.WhenReadable(WakeInline).WaitAsync(cancellationToken).ConfigureAwait(false);

            if (destination.IsEmpty)
            {
                return 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Bytes now buffered (&gt; 0), 0 at the end of the stream, −1 when nothing was there.</summary>
    private int Refill()
    {
        _readAhead ??= ArrayPool<byte>.Shared.Rent(ReadAheadSize);
        var received = SocketCalls.TryReceive(_fd, _readAhead);
        if (received <= 0)
        {
            ReleaseReadAhead();
            return received;
        }

        _readStart = 0;
        _readEnd = received;
        return received;
    }

    private bool TakeBuffered(Span<byte> destination, out int taken)
    {
        taken = Math.Min(destination.Length, _readEnd - _readStart);
        if (taken <= 0)
        {
            return false;
        }

        _readAhead.AsSpan(_readStart, taken).CopyTo(destination);
        _readStart += taken;
        if (_readStart == _readEnd)
        {
            // Drained: an idle connection holds no read-ahead buffer.
            ReleaseReadAhead();
        }

        return true;
    }

    private void ReleaseReadAhead()
    {
        if (_readAhead is { } buffer)
        {
            _readAhead = null;
            _readStart = _readEnd = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Hands each segment of <paramref name="buffer"/> to <paramref name="write"/> (a TLS layer encrypting into this
    /// stream) inside one batch: the records of one flush leave in one send, and what was written before a failure still
    /// goes out. Completes once the socket has taken all of it.
    /// </summary>
    public ValueTask SendBatchAsync<TState>(ReadOnlySequence<byte> buffer, ReadOnlySpanAction<byte, TState> write, TState state)
    {
        BeginBatch();
        try
        {
            foreach (var segment in buffer)
            {
                write(segment.Span, state);
            }
        }
        catch
        {
            _ = EndBatchAsync();
            throw;
        }

        return EndBatchAsync();
    }

    /// <summary>Collects writes until <see cref="EndBatchAsync"/>, so that the records of one relayed message leave in one send.</summary>
    public void BeginBatch()
    {
        lock (_sendLock)
        {
            _batching = true;
        }
    }

    /// <summary>Sends what the batch collected; completes once the socket has taken all of it.</summary>
    public ValueTask EndBatchAsync()
    {
        lock (_sendLock)
        {
            _batching = false;
            return new ValueTask(SendQueuedLocked());
        }
    }

    public override void Write(ReadOnlySpan<byte> source)
    {
        lock (_sendLock)
        {
            if (_sendFailure is { } failure)
            {
                throw new IOException("the connection's send failed", failure);
            }

            if (!_batching && _draining is null && _queuedStart == _queuedEnd)
            {
                source = source[SendNow(source)..];
                if (source.IsEmpty)
                {
                    return;
                }
            }

            Enqueue(source);
            if (!_batching)
            {
                _ = SendQueuedLocked();
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        Write(source.Span);
        return WhenSentAsync();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => WhenSentAsync().AsTask();

    /// <summary>Completes once the socket has taken everything written so far.</summary>
    public ValueTask WhenSentAsync()
    {
        lock (_sendLock)
        {
            return _draining is { } draining ? new ValueTask(draining) : ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Stops every send before the descriptor is closed: a send in progress on another thread finishes first (it holds
    /// the lock), and none starts after, so no send can reach a descriptor number the system has given to another socket.
    /// </summary>
    public void Detach()
    {
        lock (_sendLock)
        {
            _detached = true;
        }
    }

    private int SendNow(ReadOnlySpan<byte> source)
    {
        if (_detached)
        {
            throw new IOException("the connection is closed");
        }

        var sent = 0;
        while (sent < source.Length)
        {
            var now = SocketCalls.TrySend(_fd, source[sent..]);
            if (now == 0)
            {
                // A hot thread waits for room rather than hand the rest to the event loop, as a blocking relay would:
                // at full speed the buffer is full only until the peer's next read, and once queued, the relay would go
                // on from the pool thread that sent the queue, and stay there. Bounded, for a peer that stopped reading.
                if (!HotThreads.OnHotThread || !SocketCalls.WaitWritable(_fd, HotThreads.QuietMilliseconds))
                {
                    break;
                }

                continue;
            }

            sent += now;
        }

        return sent;
    }

    private void Enqueue(ReadOnlySpan<byte> source)
    {
        var length = _queuedEnd - _queuedStart;
        if (_queued is null || _queued.Length - _queuedEnd < source.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(length + source.Length, ReadAheadSize));
            if (_queued is { } old)
            {
                old.AsSpan(_queuedStart, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(old);
            }

            _queued = larger;
            _queuedStart = 0;
            _queuedEnd = length;
        }

        source.CopyTo(_queued.AsSpan(_queuedEnd));
        _queuedEnd += source.Length;
    }

    /// <summary>Sends the queue as far as the socket takes it now, and starts draining the rest asynchronously.</summary>
    private Task SendQueuedLocked()
    {
        if (_draining is { } draining)
        {
            return draining;
        }

        return SendQueued() ? Task.CompletedTask : _draining = DrainAsync();
    }

    /// <summary>Under the lock: sends what the socket takes now; true once the queue is empty (its buffer returned).</summary>
    private bool SendQueued()
    {
        if (_queued is null)
        {
            return true;
        }

        try
        {
            _queuedStart += SendNow(_queued.AsSpan(_queuedStart, _queuedEnd - _queuedStart));
        }
        catch (IOException ex)
        {
            _sendFailure = ex;
            throw;
        }

        if (_queuedStart < _queuedEnd)
        {
            return false;
        }

        ArrayPool<byte>.Shared.Return(_queued);
        _queued = null;
        _queuedStart = _queuedEnd = 0;
        return true;
    }

    /// <summary>Sends the queue as the socket makes room (on the reactor's word): its buffer was full.</summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            await readiness.WhenWritable().ConfigureAwait(false);
            lock (_sendLock)
            {
                bool sent;
                try
                {
                    sent = SendQueued();
                }
                catch (IOException)
                {
                    _draining = null;
                    throw;
                }

                if (sent)
                {
                    _draining = null;
                    return;
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleaseReadAhead();
        }

        base.Dispose(disposing);
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
