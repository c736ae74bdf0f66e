using System.Net.WebSockets;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// The one way Porthole ends a WebSocket: a close frame with a reason (clipped to what the frame can carry),
/// bounded in time, and an abort when the peer is gone or does not answer. Closing never throws.
/// </summary>
public static class WebSocketClosing
{
    /// <summary>How long a close handshake may take before the socket is aborted.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>Sends a close frame and waits for the peer's (a full close), at most <paramref name="timeout"/> (default <see cref="Timeout"/>).</summary>
    public static Task CloseAsync(WebSocket webSocket, WebSocketCloseStatus status, string reason, TimeSpan? timeout = null) =>
        RunAsync(webSocket, static (ws, s, r, t) => ws.CloseAsync(s, r, t), status, reason, timeout);

    /// <summary>
    /// Sends a close frame without waiting for the answer, so a receive loop still running on the socket ends by
    /// reading the peer's close frame (cancelling that receive instead would abort without any close frame).
    /// </summary>
    public static Task CloseOutputAsync(WebSocket webSocket, WebSocketCloseStatus status, string reason) =>
        RunAsync(webSocket, static (ws, s, r, t) => ws.CloseOutputAsync(s, r, t), status, reason);

    private static async Task RunAsync(
        WebSocket webSocket, Func<WebSocket, WebSocketCloseStatus, string, CancellationToken, Task> close, WebSocketCloseStatus status, string reason, TimeSpan? timeout = null)
    {
        if (webSocket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        try
        {
            using var limit = new CancellationTokenSource(timeout ?? Timeout);
            await close(webSocket, status, DataFrames.ClipReason(reason), limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            webSocket.Abort();
        }
    }
}
