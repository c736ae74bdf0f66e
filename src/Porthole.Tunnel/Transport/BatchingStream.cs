using System.Buffers;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The socket stream of the agent's and the CLI's connections to the server, under TLS: inside a
/// <see cref="WriteBatch"/> it copies what it is given into one pooled buffer and sends it when the batch ends, so
/// the TLS records of a relay message leave in one send (<c>SslStream</c> alone sends two records at a time). Outside a
/// batch (HTTP requests, TLS handshakes) it writes through. Holds no buffer between batches, so an idle connection costs nothing here.
/// </summary>
public sealed class BatchingStream(Stream inner) : Stream, IBatchedWriter
{
    private const int FullRecord = 16 * 1024;
    private const int LargeFrameRecords = DataFrames.RecordsPerMessage * (FullRecord + 256);

    private byte[]? _pending;
    private int _pendingCount;

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (WriteBatch.Current is { } batch)
        {
            Hold(buffer.Span);
            batch.Enlist(this);
            return ValueTask.CompletedTask;
        }

        // Bytes held by a batch always go first; one is only pending here while its batch is still running.
        return _pendingCount > 0 ? SendPendingThenAsync(buffer, cancellationToken) : inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public ValueTask SendBatchAsync(CancellationToken cancellationToken) =>
        _pendingCount == 0 ? ValueTask.CompletedTask : SendPendingAsync(cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            ReturnPending();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        ReturnPending();
        GC.SuppressFinalize(this);
    }

    private void Hold(ReadOnlySpan<byte> bytes)
    {
        var needed = _pendingCount + bytes.Length;
        if (_pending is null || _pending.Length < needed)
        {
            // A batch that starts with a full TLS record is a large frame, a relay message's records of 16 KiB and a little: rent
            // room for all of them at once. A small frame (a keystroke, a ping) rents only its own size.
            // Beyond that (a frame larger than the relay's own) the buffer doubles.
            var size = _pending is null ? (bytes.Length >= FullRecord ? Math.Max(needed, LargeFrameRecords) : needed) : Math.Max(needed, 2 * _pending.Length);
            var larger = ArrayPool<byte>.Shared.Rent(size);
            if (_pending is { } smaller)
            {
                smaller.AsSpan(0, _pendingCount).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(smaller);
            }

            _pending = larger;
        }

        bytes.CopyTo(_pending.AsSpan(_pendingCount));
        _pendingCount = needed;
    }

    private async ValueTask SendPendingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await inner.WriteAsync(_pending.AsMemory(0, _pendingCount), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ReturnPending();
        }
    }

    private async ValueTask SendPendingThenAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await SendPendingAsync(cancellationToken).ConfigureAwait(false);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private void ReturnPending()
    {
        if (_pending is { } pending)
        {
            _pending = null;
            _pendingCount = 0;
            ArrayPool<byte>.Shared.Return(pending);
        }
    }
}
