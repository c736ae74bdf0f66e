using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// Makes one WebSocket frame leave as one socket write. <c>SslStream</c> encrypts a large frame as 16 KiB records and
/// writes them to the stream beneath it a few at a time, so without this every frame costs several socket sends, TCP
/// segments and wake-ups of the reader on the other end (docs/design/core-tunnel.md, "Write batches").
/// <para>
/// The WebSocket's stream (<see cref="SilentPeerStream"/>) runs each write inside a batch. The stream at the bottom of
/// the connection, under TLS (<see cref="BatchingStream"/> on the client, <c>BatchingDuplexPipe</c> in the server),
/// sees the batch, holds what it is given and <see cref="Enlist">enlists</see>; when the frame's write has gone
/// through every layer the batch sends it all at once.
/// </para>
/// <para>
/// The layers in between (TLS, HTTP) are not ours, so the batch cannot be passed down; it is the thread's current one
/// while the write runs synchronously, which is how a frame's write normally goes through them (the bottom layer holds
/// the bytes and returns at once). Should a layer wait, what it writes after that leaves at once, behind what the batch
/// held (the bottom layers send held bytes first), so the order holds and only that frame goes unbatched. Writes the
/// TLS layer makes on its own (an alert, a key update from a read) are not in a frame's write, so they go out at once.
/// An <see cref="AsyncLocal{T}"/> would follow the awaits too, but every change of one allocates an execution
/// context: two objects per relayed message (docs/performance.md, "Allocations per message").
/// </para>
/// </summary>
public sealed class WriteBatch
{
    [ThreadStatic]
    private static WriteBatch? _current;

    private IBatchedWriter? _writer;

    /// <summary>The batch of the write this code runs in, if any.</summary>
    public static WriteBatch? Current => _current;

    /// <summary>
    /// Writes <paramref name="buffer"/> to <paramref name="inner"/> as one batch. Each caller owns one instance and
    /// never writes twice at once (a WebSocket serialises its sends), so the instance is reused for every write.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(Stream inner, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        await RunAsync((inner, buffer), static async (state, token) =>
        {
            await state.inner.WriteAsync(state.buffer, token).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Flushes <paramref name="writer"/> as one batch: what the layers beneath it (TLS) write on the way down leaves the
    /// socket in one send. The frame relay's legs write frames straight into the connection's pipe and flush once per read.
    /// </summary>
    public ValueTask<FlushResult> FlushAsync(PipeWriter writer, CancellationToken cancellationToken) =>
        RunAsync(writer, static (w, token) => w.FlushAsync(token), cancellationToken);

    /// <summary>Starts <paramref name="write"/> with this batch as the thread's current one, then sends what the bottom layer held back.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> RunAsync<TState, T>(TState state, Func<TState, CancellationToken, ValueTask<T>> write, CancellationToken cancellationToken)
    {
        if (_current is not null)
        {
            // Nested inside another batch (a stream stacked on a stream): the outer one sends.
            return await write(state, cancellationToken).ConfigureAwait(false);
        }

        ValueTask<T> writing;
        _current = this;
        try
        {
            writing = write(state, cancellationToken);
        }
        finally
        {
            _current = null;
        }

        T result;
        IBatchedWriter? writer;
        try
        {
            result = await writing.ConfigureAwait(false);
        }
        finally
        {
            writer = _writer;
            _writer = null;
        }

        if (writer is not null)
        {
            await writer.SendBatchAsync(cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>Called by a bottom layer that held bytes back: it is asked to send them when the batch ends.</summary>
    public void Enlist(IBatchedWriter writer)
    {
        if (_writer is not null && !ReferenceEquals(_writer, writer))
        {
            throw new InvalidOperationException("one write batch reached two connections");
        }

        _writer = writer;
    }
}

/// <summary>The bottom of a connection, which holds a batch's bytes until the batch ends.</summary>
public interface IBatchedWriter
{
    /// <summary>Sends what the batch held back.</summary>
    ValueTask SendBatchAsync(CancellationToken cancellationToken);
}
