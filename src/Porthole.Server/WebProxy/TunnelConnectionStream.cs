using System.Net.WebSockets;
using Porthole.Server.Relay;
using Porthole.Tunnel.Relay;

namespace Porthole.Server.WebProxy;

/// <summary>
/// One pooled connection of a web session: a tunnel session whose client leg is the server itself. Reads and writes
/// go straight to the agent's data WebSocket; disposing closes it (the agent then closes its TCP connection to the
/// device) and removes the session from the broker.
/// </summary>
public sealed class TunnelConnectionStream : DataWebSocketStream
{
    private readonly PendingSession _session;
    private readonly ISessionBroker _broker;
    private readonly WebSocket _agent;
    private int _disposed;

    private TunnelConnectionStream(PendingSession session, ISessionBroker broker, WebSocket agent)
        : base(agent)
    {
        (_session, _broker, _agent) = (session, broker, agent);
    }

    /// <summary>Takes the client leg of an opened session (claimed by the server, so no client can join it).</summary>
    public static async Task<TunnelConnectionStream> AttachAsync(PendingSession session, ISessionBroker broker)
    {
        if (!session.TryClaimClient(session.ClientKey, session.Target.UserId))
        {
            throw new InvalidOperationException("the session was already joined");
        }

        return new TunnelConnectionStream(session, broker, await session.AgentOutcome.Result.Leg!.GetWebSocketAsync());
    }

    public string SessionId => _session.Id;

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await CloseAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Synchronous disposal (the HTTP handler's pool) must not block on the network: close in the background.
            _ = CloseAsync();
        }

        base.Dispose(disposing);
    }

    /// <summary>Sends the close frame first: the agent leg's request ends (and drops the socket) once the session leaves the broker.</summary>
    private async Task CloseAsync()
    {
        await WebSocketClosing.CloseOutputAsync(_agent, WebSocketCloseStatus.NormalClosure, "web connection closed").ConfigureAwait(false);
        _broker.Remove(_session);
    }
}
