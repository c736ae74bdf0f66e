using System.Buffers;
using System.Net.WebSockets;
using Porthole.Protocol.Control;

namespace Porthole.Server.Agents;

/// <summary>Reads whole control messages from a WebSocket, bounded by <see cref="ControlProtocol.MaxMessageBytes"/>.</summary>
internal static class ControlChannelReader
{
    /// <summary>
    /// The next message; no message and <c>Closed</c> when the peer closed, or no message and an <c>Error</c>
    /// when the message was too large or not understood.
    /// </summary>
    public static async Task<(ControlMessage? Message, bool Closed, string? Error)> ReadAsync(WebSocket webSocket, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ControlProtocol.MaxMessageBytes);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == ControlProtocol.MaxMessageBytes)
                {
                    return (null, false, "control message too large");
                }

                var received = await webSocket.ReceiveAsync(buffer.AsMemory(length, ControlProtocol.MaxMessageBytes - length), cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return (null, true, null);
                }

                if (received.MessageType != WebSocketMessageType.Text)
                {
                    return (null, false, "binary message on the control channel");
                }

                length += received.Count;
                if (received.EndOfMessage)
                {
                    return ControlMessageSerializer.TryParse(buffer.AsSpan(0, length), out var message, out var error)
                        ? (message, false, null)
                        : (null, false, error);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
