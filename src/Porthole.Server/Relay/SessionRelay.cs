using System.Net.WebSockets;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Ssh;
using Porthole.Server.Vnc;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;

namespace Porthole.Server.Relay;

/// <summary>
/// Carries a joined session: first, for a VNC session with a stored password, the RFB handshake on the user's
/// behalf (the password never reaches the client); then the plain relay of WebSocket messages — frame by frame on
/// the connections' pipes when both legs allow it (<see cref="FrameRelay"/>, or <see cref="StreamRelay"/> when the
/// agent's leg is a stream of its streams connection), else between WebSocket objects.
/// </summary>
public static class SessionRelay
{
    public static async Task<SessionRelayResult> RunAsync(
        PendingSession session, DataLeg clientLeg, DataLeg agentLeg, SessionLifetime lifetime, IServiceScopeFactory scopes, CancellationToken cancellationToken)
    {
        var ssh = session.TakeSshTerminal();
        var password = ssh is null ? session.TakeVncPassword() : null;
        if (ssh is null && password is null && clientLeg.Frames is { } clientFrames)
        {
            if (agentLeg.Frames is { } agentFrames)
            {
                return new SessionRelayResult(await FrameRelay.RunAsync(clientFrames, agentFrames, lifetime, cancellationToken).ConfigureAwait(false), null, FrameRelayed: true);
            }

            if (agentLeg.Stream is { } stream && StreamRelay.CanRelay(stream))
            {
                return new SessionRelayResult(await StreamRelay.RunAsync(clientFrames, stream, lifetime, cancellationToken).ConfigureAwait(false), null, FrameRelayed: true);
            }
        }

        var (client, agent) = (await clientLeg.GetWebSocketAsync().ConfigureAwait(false), await agentLeg.GetWebSocketAsync().ConfigureAwait(false));
        if (ssh is not null)
        {
            var terminal = await SshTerminalRelay.RunAsync(ssh, client, agent, key => PinHostKeyAsync(scopes, session, ssh, key), lifetime, cancellationToken).ConfigureAwait(false);
            if (terminal.HostKeyMismatch)
            {
                await AuditMismatchAsync(scopes, session, ssh, terminal).ConfigureAwait(false);
            }

            var bytes = new RelayResult(new PumpResult(PumpEnd.Completed, terminal.BytesToServer), new PumpResult(PumpEnd.Completed, terminal.BytesToClient));
            return new SessionRelayResult(bytes, terminal.Failure);
        }

        if (password is not null)
        {
            var handshake = await RfbCredentialHandshake.RunAsync(new DataWebSocketStream(agent), new DataWebSocketStream(client), password, cancellationToken).ConfigureAwait(false);
            if (!handshake.Success)
            {
                await WebSocketClosing.CloseAsync(client, WebSocketCloseStatus.PolicyViolation, handshake.Error!).ConfigureAwait(false);
                await WebSocketClosing.CloseAsync(agent, WebSocketCloseStatus.PolicyViolation, "VNC authentication failed").ConfigureAwait(false);
                return new SessionRelayResult(default, handshake.Error);
            }
        }

        return new SessionRelayResult(await WebSocketRelay.RunAsync(client, agent, lifetime: lifetime, cancellationToken: cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>Trust on first use: records the host key the endpoint's SSH server proved on its first connection.</summary>
    private static async Task PinHostKeyAsync(IServiceScopeFactory scopes, PendingSession session, SshTerminalTarget ssh, string hostKey)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
        await db.Endpoints.Where(e => e.Id == ssh.EndpointId && e.SshHostKey == null)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.SshHostKey, hostKey)).ConfigureAwait(false);
        await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync(
            "user:" + session.Target.Username, "endpoint.ssh-host-key-pin", $"device:{session.Target.DeviceName}/{session.Target.EndpointName}",
            detail: hostKey, clientAddress: session.Target.ClientAddress).ConfigureAwait(false);
    }

    private static async Task AuditMismatchAsync(IServiceScopeFactory scopes, PendingSession session, SshTerminalTarget ssh, SshTerminalResult terminal)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync(
            "user:" + session.Target.Username, "session.ssh-host-key-mismatch", $"device:{session.Target.DeviceName}/{session.Target.EndpointName}",
            AuditOutcomes.Denied, $"pinned {ssh.PinnedHostKey}, offered {terminal.SeenHostKey}", session.Target.ClientAddress).ConfigureAwait(false);
    }
}

/// <summary>The relay's bytes, or why the session never got past its handshake.</summary>
/// <param name="Relay">Bytes and end of each direction.</param>
/// <param name="HandshakeFailure">Why a handshake the server ran for the user failed, if it did.</param>
/// <param name="FrameRelayed">Whether the <see cref="FrameRelay"/> carried it (else WebSocket objects did).</param>
public readonly record struct SessionRelayResult(RelayResult Relay, string? HandshakeFailure, bool FrameRelayed = false);
