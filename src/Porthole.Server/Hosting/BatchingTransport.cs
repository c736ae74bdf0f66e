using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Hosting;

/// <summary>
/// Kestrel connection middleware, first in the chain (under TLS): inside a <see cref="WriteBatch"/> the transport's
/// output takes writes without flushing them, and flushes once when the batch ends. Kestrel's TLS layer writes every
/// record into the transport pipe with a flush, and each flush wakes the socket's send loop, so a relayed frame left
/// as one send and one segment per record; in a batch it is one. Writes outside a batch (HTTP responses, TLS
/// handshakes, anything not carried by a WebSocket) flush as before.
/// </summary>
public static class BatchingTransport
{
    /// <summary>Adds the middleware to an endpoint; call before <c>UseHttps</c> so it sits beneath TLS.</summary>
    public static void Use(ListenOptions listen) => listen.Use(next => context =>
    {
        context.Transport = new BatchingDuplexPipe(context.Transport);
        return next(context);
    });

    private sealed class BatchingDuplexPipe(IDuplexPipe transport) : IDuplexPipe
    {
        public PipeReader Input { get; } = transport.Input;

        public PipeWriter Output { get; } = new BatchingPipeWriter(transport.Output);
    }

    private sealed class BatchingPipeWriter(PipeWriter inner) : PipeWriter, IBatchedWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (WriteBatch.Current is { } batch)
            {
                batch.Enlist(this);
                return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
            }

            return inner.FlushAsync(cancellationToken);
        }

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            inner.Write(source.Span);
            return FlushAsync(cancellationToken);
        }

        public async ValueTask SendBatchAsync(CancellationToken cancellationToken)
        {
            var result = await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("the connection's output was cancelled");
            }

            // Inside a batch the flush above stood in for the writer's own, so its news is told here: a completed
            // output means the connection is gone, and the caller must not carry on as if the bytes left.
            if (result.IsCompleted)
            {
                throw new IOException("the connection was closed");
            }
        }
    }
}
