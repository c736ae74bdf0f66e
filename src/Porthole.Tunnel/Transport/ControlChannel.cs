using System.Buffers;
using System.Net.WebSockets;
using Porthole.Protocol.Control;

namespace Porthole.Tunnel.Transport;

/// <summary>
/// Control messages over a WebSocket, used by both ends of the agent's control channel. Sends are serialised
/// (sessions answer concurrently); reads are bounded by <see cref="ControlProtocol.MaxMessageBytes"/> and
/// report bad input as a result, not an exception.
/// </summary>
public sealed class ControlChannel(WebSocket webSocket) : IDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public WebSocket WebSocket { get; } = webSocket;

    /// <summary>Sends one message; safe to call from several tasks at once.</summary>
    public async Task SendAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        var payload = ControlMessageSerializer.Serialize(message);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WebSocket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>First buffer of a read; most control messages are a few hundred bytes.</summary>
    public const int InitialBufferBytes = 1024;

    /// <summary>Reads the next whole message. Only one reader may call this at a time.</summary>
    public async Task<ControlRead> ReceiveAsync(CancellationToken cancellationToken)
    {
        // A connected agent's channel waits here for hours. Renting the 64 KiB maximum up front cost every idle agent
        // 64 KiB on the server (1.15 GiB for 10 000 TLS agents, issue 7); start small and grow for a message that needs it.
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        try
        {
            var length = 0;
            while (true)
            {
                var limit = Math.Min(buffer.Length, ControlProtocol.MaxMessageBytes);
                if (length == limit)
                {
                    if (limit == ControlProtocol.MaxMessageBytes)
                    {
                        return ControlRead.Invalid("control message too large");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 8, ControlProtocol.MaxMessageBytes));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                    limit = Math.Min(buffer.Length, ControlProtocol.MaxMessageBytes);
                }

                var received = await WebSocket.ReceiveAsync(buffer.AsMemory(length, limit - length), cancellationToken).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return ControlRead.Closed(WebSocket.CloseStatusDescription);
                }

                if (received.MessageType != WebSocketMessageType.Text)
                {
                    return ControlRead.Invalid("binary message on the control channel");
                }

                length += received.Count;
                if (received.EndOfMessage)
                {
                    return ControlMessageSerializer.TryParse(buffer.AsSpan(0, length), out var message, out var error)
                        ? ControlRead.Of(message!)
                        : ControlRead.Invalid(error!);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Closes the channel with a reason, bounded in time; aborts if the peer does not answer.</summary>
    public Task CloseAsync(WebSocketCloseStatus status, string reason) => Relay.WebSocketClosing.CloseAsync(WebSocket, status, reason);

    public void Dispose() => _sendLock.Dispose();
}

/// <summary>One read from a control channel: a message, the peer's close, or bad input.</summary>
public readonly record struct ControlRead(ControlMessage? Message, bool IsClosed, string? Error)
{
    public static ControlRead Of(ControlMessage message) => new(message, false, null);

    public static ControlRead Closed(string? reason) => new(null, true, reason);

    public static ControlRead Invalid(string error) => new(null, false, error);
}
