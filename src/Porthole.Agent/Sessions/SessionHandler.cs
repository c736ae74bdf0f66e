using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.Agent.Sessions;

/// <summary>
/// Answers an <c>open</c>: enforces the local kill switch, dials the target, opens the session's own data
/// WebSocket and relays. A session is independent of the control channel that asked for it, so it survives
/// a control reconnect. Once a session has carried bytes both ways it refills <paramref name="spare"/>, so that the
/// next session's upgrade finds a connection with its handshakes done (not sooner: on a small machine the spare's TLS
/// handshake, here and in the server, would compete with this session's first bytes).
/// </summary>
public sealed class SessionHandler(Uri server, string credential, DataWebSocketConnector connector, SpareConnection spare, Func<bool> remoteAccessEnabled, TargetPolicy policy, ILogger logger)
{
    public async Task HandleAsync(OpenSessionMessage open, ControlChannel control, CancellationToken cancellationToken)
    {
        // The kill switch is checked here, on the side that dials, whatever the server believes.
        if (!remoteAccessEnabled())
        {
            AgentLog.SessionRefusedDisabled(logger, open.SessionId);
            await ReportAsync(control, new OpenFailedMessage(open.SessionId, OpenFailureReason.Disabled, "remote access is disabled on this agent"), cancellationToken).ConfigureAwait(false);
            return;
        }

        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(open.ConnectTimeoutMs, 100, 300_000));
        var (socket, failure, message) = await TargetDialer.DialAsync(open.Host, open.Port, policy, timeout, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            AgentLog.SessionFailed(logger, open.SessionId, open.Host, open.Port, failure.ToString()!, message!);
            await ReportAsync(control, new OpenFailedMessage(open.SessionId, failure!.Value, message!), cancellationToken).ConfigureAwait(false);
            return;
        }

        using (socket)
        {
            WebSocket webSocket;
            try
            {
                var uri = DataWebSocketConnector.ToWebSocketUri(server, $"/api/v1/agent/sessions/{Uri.EscapeDataString(open.SessionId)}");
                var headers = new Dictionary<string, string> { [ControlProtocol.SessionKeyHeader] = open.SessionKey };
                webSocket = await connector.ConnectAsync(uri, credential, ControlProtocol.DataSubProtocol, headers, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException)
            {
                AgentLog.SessionFailed(logger, open.SessionId, open.Host, open.Port, nameof(OpenFailureReason.ServerUnreachable), ex.Message);
                await ReportAsync(control, new OpenFailedMessage(open.SessionId, OpenFailureReason.ServerUnreachable, ex.Message), cancellationToken).ConfigureAwait(false);
                return;
            }

            using (webSocket)
            {
                AgentLog.SessionStarted(logger, open.SessionId, open.Host, open.Port);
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                var result = await StreamTunnel.RunAsync(webSocket, stream, stream, () => ShutdownSend(socket), "target", cancellationToken: cancellationToken, afterFirstExchange: spare.Refill).ConfigureAwait(false);
                AgentLog.SessionEnded(logger, open.SessionId, result.RemoteToLocal.Bytes, result.LocalToRemote.Bytes, result.Succeeded ? "" : ": " + result.FailureReason);
            }
        }
    }

    private static void ShutdownSend(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Already reset by the target: the read side reports it.
        }
    }

    private static async Task ReportAsync(ControlChannel control, OpenFailedMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await control.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The control channel dropped meanwhile; the server times the session out on its own.
        }
    }
}
