using System.Net.WebSockets;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// How a relay of two directions ends, the same for <see cref="WebSocketRelay"/> and the frame relay: once the
/// session expires (or is terminated), both sides get a close frame with the reason, also while one side's close
/// frame still waits for its answer; once a side vanishes, the other gets one saying so; either way each side has
/// <see cref="WebSocketClosing.Timeout"/> to answer before what is still pending is cancelled.
/// </summary>
public static class RelayCompletion
{
    /// <summary>Stands in for the expiry of a session without a timeout.</summary>
    private static readonly Task<string> Never = new TaskCompletionSource<string>().Task;

    /// <summary>A way to send one side a close frame; it must never throw.</summary>
    public delegate Task CloseSide(WebSocketCloseStatus status, string reason);

    /// <summary>
    /// Waits for the two running directions, closing sides as the first event requires. <paramref name="abort"/>
    /// cancels both directions.
    /// </summary>
    public static async Task<RelayResult> WaitAsync(
        Task<PumpResult> clientToAgent, Task<PumpResult> agentToClient, SessionLifetime? lifetime, CloseSide closeClient, CloseSide closeAgent, CancellationTokenSource abort)
    {
        var expired = lifetime?.Expired ?? Never;
        var first = await Task.WhenAny(clientToAgent, agentToClient, expired).ConfigureAwait(false);
        if (first == expired)
        {
            return await ExpireAsync(clientToAgent, agentToClient, expired.Result, closeClient, closeAgent, abort).ConfigureAwait(false);
        }

        var outcome = first == clientToAgent ? clientToAgent.Result : agentToClient.Result;
        if (outcome.End is PumpEnd.PeerClosed)
        {
            // The other direction ends on the answering close frame. A peer that never sends it (and keeps the connection
            // alive) must not outlast a termination or the session's lifetime.
            var other = first == clientToAgent ? agentToClient : clientToAgent;
            if (await Task.WhenAny(other, expired).ConfigureAwait(false) == expired && !other.IsCompleted)
            {
                return await ExpireAsync(clientToAgent, agentToClient, expired.Result, closeClient, closeAgent, abort).ConfigureAwait(false);
            }
        }

        if (outcome.End is PumpEnd.Failed)
        {
            // One side vanished without a close frame. Which one depends on whether the direction's source or its
            // destination failed; tell the side still alive why, then stop.
            var fromClient = first == clientToAgent;
            var clientDied = fromClient == (outcome.FailedSide != PumpSide.Destination);
            var (close, side) = clientDied ? (closeAgent, "client disconnected") : (closeClient, "agent disconnected");

            // The cause after the side ("agent disconnected: no answer to keep-alive pings for 30 s"), clipped to fit.
            var cause = outcome.Reason is { Length: > 0 } r && r.IndexOf(": ", StringComparison.Ordinal) is var colon and >= 0 ? r[(colon + 2)..] : null;
            await close(WebSocketCloseStatus.EndpointUnavailable, cause is null ? side : $"{side}: {cause}").ConfigureAwait(false);

            // Let the live side answer the close frame before tearing down: cancelling its pending receive aborts the
            // connection with a reset, and a reset can overtake the close frame, so the user would never see why.
            await SettleAsync(clientToAgent, agentToClient, abort).ConfigureAwait(false);
        }

        var up = await clientToAgent.ConfigureAwait(false);
        var down = await agentToClient.ConfigureAwait(false);

        // The direction that ended first says why; the other one was only cancelled because of it.
        return new RelayResult(up, down, outcome.End == PumpEnd.Canceled ? null : outcome.Reason);
    }

    /// <summary>Both sides learn why with a close frame; the directions then end on the answering close frames, or are cancelled.</summary>
    private static async Task<RelayResult> ExpireAsync(
        Task<PumpResult> clientToAgent, Task<PumpResult> agentToClient, string reason, CloseSide closeClient, CloseSide closeAgent, CancellationTokenSource abort)
    {
        await closeClient(WebSocketCloseStatus.PolicyViolation, reason).ConfigureAwait(false);
        await closeAgent(WebSocketCloseStatus.PolicyViolation, reason).ConfigureAwait(false);
        await SettleAsync(clientToAgent, agentToClient, abort).ConfigureAwait(false);
        var sent = await clientToAgent.ConfigureAwait(false);
        var received = await agentToClient.ConfigureAwait(false);
        return new RelayResult(sent with { End = PumpEnd.Canceled, Reason = reason }, received with { End = PumpEnd.Canceled, Reason = reason }, reason);
    }

    private static async Task SettleAsync(Task<PumpResult> clientToAgent, Task<PumpResult> agentToClient, CancellationTokenSource abort)
    {
        await Task.WhenAny(Task.WhenAll(clientToAgent, agentToClient), Task.Delay(WebSocketClosing.Timeout, CancellationToken.None)).ConfigureAwait(false);
        await abort.CancelAsync().ConfigureAwait(false);
    }
}
