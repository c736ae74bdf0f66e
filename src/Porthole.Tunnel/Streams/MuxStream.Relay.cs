using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// The stream as <see cref="StreamRelay"/> uses it: whole frames taken off its queue and written straight to the
/// client's connection, and the send window taken by the relay that writes the client's frames straight to the
/// streams connection, so neither direction goes through the WebSocket API and its buffers.
/// </summary>
public sealed partial class MuxStream
{
    /// <summary>The connection the stream is on.</summary>
    internal StreamMux Mux => _mux;

    /// <summary>A frame taken whole: data in a pooled array the taker returns, <c>fin</c>, or the peer's close.</summary>
    internal readonly record struct Chunk(StreamFrameType Type, byte[]? Data, int Offset, int Length, WebSocketCloseStatus? Status, string? Reason);

    /// <summary>Waits for the next frame and takes it whole; its credit goes back with <see cref="ReleaseAsync"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<Chunk> TakeChunkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource readable;
            lock (_gate)
            {
                if (TryTakeChunkLocked(out var chunk))
                {
                    return chunk;
                }

                readable = _readable ??= NewWaiter();
            }

            await readable.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the next frame if one is there, without waiting (to write several in one flush).</summary>
    internal bool TryTakeChunk(out Chunk chunk)
    {
        lock (_gate)
        {
            return TryTakeChunkLocked(out chunk);
        }
    }

    private bool TryTakeChunkLocked(out Chunk chunk)
    {
        if (_state is WebSocketState.Aborted or WebSocketState.Closed or WebSocketState.CloseReceived)
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"the stream is {_state}");
        }

        if (!_hasCurrent && !_incoming.TryDequeue(out _current))
        {
            chunk = default;
            return false;
        }

        var item = _current;
        _hasCurrent = false;
        if (item.Type == StreamFrameType.Close)
        {
            (_closeStatus, _closeDescription) = (item.Status, item.Reason);
            _state = _closeSent ? WebSocketState.Closed : WebSocketState.CloseReceived;
            if (_state == WebSocketState.Closed)
            {
                _mux.Remove(this);
            }
        }

        chunk = new Chunk(item.Type, item.Data, item.Offset, item.Length, item.Status, item.Reason);
        return true;
    }

    /// <summary>The relay has handed <paramref name="bytes"/> on: their credit goes back to the peer (in batches).</summary>
    internal ValueTask ReleaseAsync(int bytes)
    {
        uint grant;
        lock (_gate)
        {
            grant = Consume(bytes);
        }

        return grant > 0 ? GrantAsync(grant) : default;
    }

    /// <summary>
    /// Takes up to <paramref name="wanted"/> bytes of the send window; 0 when it is used up (then wait with
    /// <see cref="WaitForWindowAsync"/>). Once the peer has closed, everything is granted and <paramref name="drop"/>
    /// is set: the caller drops the bytes, as <see cref="SendAsync(ReadOnlyMemory{byte}, WebSocketMessageType, bool, CancellationToken)"/>
    /// does. Sent, they would overrun the window of a peer that reads no more (its stream, having sent its close, still
    /// counts what arrives), and its mux would end the connection, every other stream on it with it.
    /// </summary>
    internal int TakeWindow(int wanted, out bool drop)
    {
        lock (_gate)
        {
            ThrowIfCannotSend();
            drop = _closeQueued;
            if (_closeQueued)
            {
                return wanted;
            }

            var granted = (int)Math.Min(wanted, _sendWindow);
            _sendWindow -= granted;
            return granted;
        }
    }

    /// <summary>Waits until the send window is open again (or the stream can no longer send).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WaitForWindowAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource writable;
        lock (_gate)
        {
            if (_sendWindow > 0 || _closeQueued || _closeSent || _lost is not null || _state == WebSocketState.Aborted)
            {
                return;
            }

            writable = _writable ??= NewWaiter();
        }

        await writable.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records that the relay wrote this stream's <c>fin</c> or data itself; nothing to do but check it may.</summary>
    internal void CheckCanSend()
    {
        lock (_gate)
        {
            ThrowIfCannotSend();
        }
    }
}
