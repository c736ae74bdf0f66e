using System.IO.Pipelines;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// Makes one WebSocket frame leave as one socket write. <c>SslStream</c> encrypts a large frame as 16 KiB records and
/// writes them to the stream beneath it a few at a time, so without this every frame costs several socket sends, TCP
/// segments and wake-ups of the reader on the other end (docs/design/core-tunnel.md, "Write batches").
/// <para>
/// The WebSocket's stream (<see cref="SilentPeerStream"/>) runs each write inside a batch. The stream at the bottom of
/// the connection, under TLS (<see cref="BatchingStream"/> on the client, <c>BatchingDuplexPipe</c> in the server),
/// sees the batch, holds what it is given and <see cref="Enlist">enlists</see>; when the frame's write has gone
/// through every layer the batch sends it all at once. The batch travels in an <see cref="AsyncLocal{T}"/> because
/// the layers in between (TLS, HTTP) are not ours; that also keeps writes the TLS layer makes on its own (an alert, a
/// key update from a read) out of the batch: they are not in the frame's flow, so they go out at once.
/// </para>
/// </summary>
public sealed class WriteBatch
{
    private static readonly AsyncLocal<WriteBatch?> Ambient = new();

    private IBatchedWriter? _writer;

    /// <summary>The batch of the write this code runs in, if any.</summary>
    public static WriteBatch? Current => Ambient.Value;

    /// <summary>
    /// Writes <paramref name="buffer"/> to <paramref name="inner"/> as one batch. Each caller owns one instance and
    /// never writes twice at once (a WebSocket serialises its sends), so the instance is reused for every write.
    /// </summary>
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

    /// <summary>Runs <paramref name="write"/> with this batch as the ambient one, then sends what the bottom layer held back.</summary>
    private async ValueTask<T> RunAsync<TState, T>(TState state, Func<TState, CancellationToken, ValueTask<T>> write, CancellationToken cancellationToken)
    {
        if (Ambient.Value is not null)
        {
            // Nested inside another batch (a stream stacked on a stream): the outer one sends.
            return await write(state, cancellationToken).ConfigureAwait(false);
        }

        T result;
        IBatchedWriter? writer;
        Ambient.Value = this;
        try
        {
            result = await write(state, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Ambient.Value = null;
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
