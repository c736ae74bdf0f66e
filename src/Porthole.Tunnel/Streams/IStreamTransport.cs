using System.Net.WebSockets;

namespace Porthole.Tunnel.Streams;

/// <summary>How a <see cref="StreamMux"/> reads and writes the stream frames of its connection.</summary>
internal interface IStreamTransport
{
    /// <summary>Reads frames until the connection ends, handing each to <see cref="StreamMux.Deliver"/>; returns why it ended.</summary>
    Task<string> ReceiveAsync(StreamMux mux, CancellationToken cancellationToken);

    /// <summary>
    /// Sends one frame. <paramref name="cancellationToken"/> bounds only the wait for the connection; once a frame has
    /// started it is finished (only <paramref name="stop"/>, the end of the mux, cuts it short), because a frame cut in
    /// the middle would break the connection every other stream shares.
    /// </summary>
    ValueTask SendAsync(uint streamId, StreamFrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, CancellationToken stop);

    /// <summary>Closes the connection with a status and a reason; never throws.</summary>
    Task CloseAsync(WebSocketCloseStatus status, string reason);
}
