using System.Net.WebSockets;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// Joins two data WebSockets on the server: every message (bytes, <c>fin</c>) is forwarded as it is, and a
/// close on one side is passed to the other with its status and reason. The relay never looks inside the
/// stream and holds at most one buffer per direction, a small one while the direction is quiet (<see cref="AdaptiveBuffer"/>).
/// </summary>
public static class WebSocketRelay
{
    /// <summary>Relays until both sides have closed, one has failed, or <paramref name="lifetime"/> ended the session.</summary>
    public static async Task<RelayResult> RunAsync(
        WebSocket client, WebSocket agent, int bufferSize = DataFrames.DefaultBufferSize, SessionLifetime? lifetime = null, CancellationToken cancellationToken = default)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clientToAgent = ForwardAsync(client, agent, "client", bufferSize, lifetime, abort.Token);
        var agentToClient = ForwardAsync(agent, client, "agent", bufferSize, lifetime, abort.Token);
        return await RelayCompletion.WaitAsync(
            clientToAgent, agentToClient, lifetime,
            (status, reason) => WebSocketClosing.CloseOutputAsync(client, status, reason),
            (status, reason) => WebSocketClosing.CloseOutputAsync(agent, status, reason),
            abort).ConfigureAwait(false);
    }

    private static async Task<PumpResult> ForwardAsync(WebSocket source, WebSocket destination, string sourceName, int bufferSize, SessionLifetime? lifetime, CancellationToken cancellationToken)
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
                var received = await source.ReceiveAsync(memory, cancellationToken).ConfigureAwait(false);
                side = PumpSide.Destination;
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    var status = source.CloseStatus ?? WebSocketCloseStatus.NormalClosure;
                    var description = source.CloseStatusDescription ?? "";
                    if (lifetime?.HasEnded != true && destination.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await destination.CloseOutputAsync(status, description, cancellationToken).ConfigureAwait(false);
                    }

                    return new PumpResult(PumpEnd.PeerClosed, total, description);
                }

                await destination.SendAsync(memory[..received.Count], received.MessageType, received.EndOfMessage, cancellationToken).ConfigureAwait(false);
                total += received.Count;
                buffer.Observe(received.Count);
                lifetime?.Touch();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new PumpResult(PumpEnd.Canceled, total, "cancelled");
        }
        catch (Exception ex) when (ex is IOException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            var who = side == PumpSide.Source ? sourceName : sourceName == "client" ? "agent" : "client";
            return new PumpResult(PumpEnd.Failed, total, $"{who}: {WebSocketPump.Describe(ex)}", side);
        }
    }
}

/// <summary>Bytes and end reason of each direction of a relayed session.</summary>
/// <param name="ClientToAgent">Bytes and end of the client-to-agent direction.</param>
/// <param name="AgentToClient">Bytes and end of the agent-to-client direction.</param>
/// <param name="EndReason">Why the session ended, from the direction that ended first (or the lifetime); <c>null</c> for an orderly close without a reason.</param>
public readonly record struct RelayResult(PumpResult ClientToAgent, PumpResult AgentToClient, string? EndReason = null)
{
    /// <summary>Total payload bytes relayed.</summary>
    public long TotalBytes => ClientToAgent.Bytes + AgentToClient.Bytes;
}
