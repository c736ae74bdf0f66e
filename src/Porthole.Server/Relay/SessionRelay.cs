using System.Net.WebSockets;
using Porthole.Server.Vnc;
using Porthole.Tunnel.Relay;

namespace Porthole.Server.Relay;

/// <summary>
/// Carries a joined session: first, for a VNC session with a stored password, the RFB handshake on the user's
/// behalf (the password never reaches the client); then the plain relay of WebSocket messages.
/// </summary>
public static class SessionRelay
{
    public static async Task<SessionRelayResult> RunAsync(PendingSession session, WebSocket client, WebSocket agent, CancellationToken cancellationToken)
    {
        if (session.TakeVncPassword() is { } password)
        {
            var handshake = await RfbCredentialHandshake.RunAsync(new DataWebSocketStream(agent), new DataWebSocketStream(client), password, cancellationToken).ConfigureAwait(false);
            if (!handshake.Success)
            {
                await CloseAsync(client, handshake.Error!).ConfigureAwait(false);
                await CloseAsync(agent, "VNC authentication failed").ConfigureAwait(false);
                return new SessionRelayResult(default, handshake.Error);
            }
        }

        return new SessionRelayResult(await WebSocketRelay.RunAsync(client, agent, cancellationToken: cancellationToken).ConfigureAwait(false), null);
    }

    private static async Task CloseAsync(WebSocket webSocket, string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await webSocket.CloseAsync(WebSocketCloseStatus.PolicyViolation, DataFrames.ClipReason(reason), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            webSocket.Abort();
        }
    }
}

/// <summary>The relay's bytes, or why the session never got past its handshake.</summary>
public readonly record struct SessionRelayResult(RelayResult Relay, string? HandshakeFailure);
