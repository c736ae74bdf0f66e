using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;
using System.Net.WebSockets;

namespace Porthole.Server.Relay;

/// <summary>
/// Keeps an agent's leg of a session alive from the moment it attached until the session is over: it waits for the
/// client to claim the session (and expires it if none does in time), then for the client's request, which relays
/// and ends the session, to be done with it. The same for a leg that is a connection of its own and one that is a
/// stream on the agent's streams connection.
/// </summary>
internal static class AgentLegHolder
{
    /// <summary>Holds an attached leg; <paramref name="aborted"/> is the end of whatever carries it (the agent's request).</summary>
    public static async Task HoldAsync(PendingSession session, DataLeg leg, ISessionBroker broker, TimeSpan clientAttachTimeout, TimeProvider time, ILogger logger, CancellationToken aborted)
    {
        if (!await session.WaitForClientAsync(clientAttachTimeout, time, aborted))
        {
            RelayLog.Expired(logger, session.Id);
            broker.Remove(session);
            await WebSocketClosing.CloseAsync(await leg.GetWebSocketAsync(), WebSocketCloseStatus.PolicyViolation, "the client did not join the session in time");
            return;
        }

        // Once a client has claimed the session, its request owns this leg (the relay may read the connection's pipes
        // directly) and ends on its own when the agent goes away. Returning early on an abort would tear the
        // connection down under it, losing bytes the agent sent before leaving; the client's request always finishes
        // the session, so waiting for it is bounded.
        await session.Finished.WaitAsync(aborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!session.Finished.IsCompleted && session.ClientClaimed)
        {
            await session.Finished;
        }
    }

    /// <summary>
    /// Attaches a stream the agent was asked to carry once the agent acknowledges it, then holds it. A stream the agent
    /// never acknowledges is the opener's to dispose (it times the open out, or the agent reports why it failed).
    /// </summary>
    public static async Task HoldStreamAsync(PendingSession session, MuxStream stream, ISessionBroker broker, TimeSpan clientAttachTimeout, TimeProvider time, ILogger logger)
    {
        await using var leg = DataLeg.OverWebSocket(stream);
        if (!await stream.Accepted)
        {
            return;
        }

        await stream.OpenWindowAsync();

        if (!session.TryAttachAgentStream(leg))
        {
            // The open timed out or failed meanwhile; the stream is of no use to anyone.
            await WebSocketClosing.CloseAsync(stream, WebSocketCloseStatus.PolicyViolation, "the session is no longer waiting for the agent");
            return;
        }

        await HoldAsync(session, leg, broker, clientAttachTimeout, time, logger, CancellationToken.None);
    }
}
