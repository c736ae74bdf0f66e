using System.Buffers;
using System.Net.WebSockets;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// The copy loop from a <see cref="MuxStream"/> to a byte stream (the agent's target): each frame's pooled array is
/// written to the destination as it arrived, where <see cref="WebSocketPump.WebSocketToStreamAsync"/> would first copy
/// it into a buffer of its own through the WebSocket API. Same outcomes as that loop.
/// </summary>
internal static class MuxStreamPump
{
    public static async Task<PumpResult> ToStreamAsync(MuxStream source, Stream destination, Action completeDestination, CancellationToken cancellationToken, Action? firstBytesMoved)
    {
        long total = 0;
        var side = PumpSide.Source;
        try
        {
            while (true)
            {
                side = PumpSide.Source;
                var chunk = await source.TakeChunkAsync(cancellationToken).ConfigureAwait(false);
                side = PumpSide.Destination;
                switch (chunk.Type)
                {
                    case StreamFrameType.Fin:
                        completeDestination();
                        return new PumpResult(PumpEnd.Completed, total);

                    case StreamFrameType.Close:
                        return new PumpResult(PumpEnd.PeerClosed, total, chunk.Reason);
                }

                if (chunk.Length == 0)
                {
                    ArrayPool<byte>.Shared.Return(chunk.Data!);
                    continue;
                }

                try
                {
                    await destination.WriteAsync(chunk.Data.AsMemory(chunk.Offset, chunk.Length), cancellationToken).ConfigureAwait(false);
                    await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk.Data!);
                }

                if (total == 0)
                {
                    firstBytesMoved?.Invoke();
                }

                total += chunk.Length;
                await source.ReleaseAsync(chunk.Length).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new PumpResult(PumpEnd.Canceled, total, "cancelled");
        }
        catch (Exception ex) when (ex is IOException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            return new PumpResult(PumpEnd.Failed, total, WebSocketPump.Describe(ex), side);
        }
    }
}
