using System.Buffers;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// The socket stream of the agent's and the CLI's connections to the server, under TLS: inside a
/// <see cref="WriteBatch"/> it copies what it is given into one pooled buffer and sends it when the batch ends, so
/// the TLS records of a relay message leave in one send (<c>SslStream</c> alone sends two records at a time). Outside a
/// batch (HTTP requests, TLS handshakes) it writes through. Holds no buffer between batches, so an idle connection costs nothing here.
/// </summary>
public sealed class BatchingStream(Stream inner) : LayeredStream(inner), IBatchedWriter
{
    private const int FullRecord = 16 * 1024;
    private const int LargeFrameRecords = DataFrames.RecordsPerMessage * (FullRecord + 256);

    private byte[]? _pending;
    private int _pendingCount;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (WriteBatch.Current is { } batch)
        {
            Hold(buffer.Span);
            batch.Enlist(this);
            return ValueTask.CompletedTask;
        }

        // Bytes held by a batch always go first; one is only pending here while its batch is still running.
        return _pendingCount > 0 ? SendPendingThenAsync(buffer, cancellationToken) : Inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Write(ReadOnlySpan<byte> buffer) => WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();

    public ValueTask SendBatchAsync(CancellationToken cancellationToken) =>
        _pendingCount == 0 ? ValueTask.CompletedTask : SendPendingAsync(cancellationToken);

    protected override void OnDisposed() => ReturnPending();

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
            await Inner.WriteAsync(_pending.AsMemory(0, _pendingCount), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ReturnPending();
        }
    }

    private async ValueTask SendPendingThenAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await SendPendingAsync(cancellationToken).ConfigureAwait(false);
        await Inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
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
