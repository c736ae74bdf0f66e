using System.Net.WebSockets;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// The two copy loops between a byte stream and a data WebSocket. Each holds one pooled buffer (small while quiet,
/// see <see cref="AdaptiveBuffer"/>), awaits every
/// write before the next read (so a slow reader slows its writer and memory per session stays bounded), and
/// returns why it stopped instead of throwing.
/// </summary>
public static class WebSocketPump
{
    /// <summary>
    /// Copies <paramref name="source"/> into binary messages until EOF, then sends <c>fin</c>. <paramref name="firstBytesMoved"/>
    /// is called once, after the first bytes were sent.
    /// </summary>
    public static async Task<PumpResult> StreamToWebSocketAsync(Stream source, WebSocket destination, int bufferSize, CancellationToken cancellationToken, Action? firstBytesMoved = null)
    {
        using var buffer = new AdaptiveBuffer(bufferSize);
        long total = 0;
        var side = PumpSide.Source;
        try
        {
            while (true)
            {
                side = PumpSide.Source;
                var memory = buffer.Memory;
                var read = await source.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
                side = PumpSide.Destination;
                if (read == 0)
                {
                    await destination.SendAsync(DataFrames.Fin, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                    return new PumpResult(PumpEnd.Completed, total);
                }

                await destination.SendAsync(memory[..read], WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                if (total == 0)
                {
                    firstBytesMoved?.Invoke();
                }

                total += read;
                buffer.Observe(read);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new PumpResult(PumpEnd.Canceled, total, "cancelled");
        }
        catch (Exception ex) when (ex is IOException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            return new PumpResult(PumpEnd.Failed, total, Describe(ex), side);
        }
    }

    /// <summary>
    /// Writes the binary messages of <paramref name="source"/> to <paramref name="destination"/> until the peer
    /// sends <c>fin</c> (then <paramref name="completeDestination"/> half-closes the stream) or closes.
    /// <paramref name="firstBytesMoved"/> is called once, after the first bytes were written.
    /// </summary>
    public static async Task<PumpResult> WebSocketToStreamAsync(WebSocket source, Stream destination, Action completeDestination, int bufferSize, CancellationToken cancellationToken, Action? firstBytesMoved = null)
    {
        if (source is Streams.MuxStream stream)
        {
            // A stream's frames already sit in arrays of their own: written from there, they skip this loop's copy.
            return await Streams.MuxStreamPump.ToStreamAsync(stream, destination, completeDestination, cancellationToken, firstBytesMoved).ConfigureAwait(false);
        }

        using var buffer = new AdaptiveBuffer(bufferSize);
        long total = 0;
        var side = PumpSide.Source;
        try
        {
            while (true)
            {
                side = PumpSide.Source;
                var memory = buffer.Memory;
                var received = await source.ReceiveAsync(memory, cancellationToken).ConfigureAwait(false);
                side = PumpSide.Destination;
                switch (received.MessageType)
                {
                    case WebSocketMessageType.Binary:
                        if (received.Count > 0)
                        {
                            await destination.WriteAsync(memory[..received.Count], cancellationToken).ConfigureAwait(false);
                            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
                            if (total == 0)
                            {
                                firstBytesMoved?.Invoke();
                            }

                            total += received.Count;
                        }

                        buffer.Observe(received.Count);

                        break;

                    case WebSocketMessageType.Text:
                        // Control frames are tiny and sent whole; anything else is a protocol violation.
                        if (!received.EndOfMessage || received.Count > DataFrames.MaxControlFrameBytes || !DataFrames.IsFin(memory.Span[..received.Count]))
                        {
                            return new PumpResult(PumpEnd.Failed, total, "unexpected control frame on data channel", PumpSide.Source);
                        }

                        completeDestination();
                        return new PumpResult(PumpEnd.Completed, total);

                    case WebSocketMessageType.Close:
                        return new PumpResult(PumpEnd.PeerClosed, total, source.CloseStatusDescription);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new PumpResult(PumpEnd.Canceled, total, "cancelled");
        }
        catch (Exception ex) when (ex is IOException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            return new PumpResult(PumpEnd.Failed, total, Describe(ex), side);
        }
    }

    internal static string Describe(Exception ex) => ex switch
    {
        _ when FindSilentPeer(ex) is { } silent => silent.Message,
        WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely } => "connection closed without a close frame",
        IOException { InnerException: System.Net.Sockets.SocketException se } => se.SocketErrorCode switch
        {
            System.Net.Sockets.SocketError.ConnectionReset => "connection reset by peer",
            System.Net.Sockets.SocketError.Shutdown or System.Net.Sockets.SocketError.ConnectionAborted => "connection aborted",
            _ => se.Message,
        },
        _ => ex.Message,
    };

    private static Transport.PeerSilentException? FindSilentPeer(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is Transport.PeerSilentException silent)
            {
                return silent;
            }
        }

        return null;
    }
}
