using System.Net.WebSockets;

namespace Porthole.Tunnel.Relay;

/// <summary>
/// Carries one session between a local byte stream (a TCP socket, stdin/stdout) and a data WebSocket:
/// both directions run at once, half-close travels as <c>fin</c>, and the first failure ends both
/// (STYLE.md habit 6: two directions, one shutdown).
/// </summary>
public static class StreamTunnel
{
    /// <summary>
    /// Runs the session to its end and closes the WebSocket with a status that tells the peer why.
    /// </summary>
    /// <param name="webSocket">The data WebSocket.</param>
    /// <param name="input">Where local bytes are read from.</param>
    /// <param name="output">Where remote bytes are written to.</param>
    /// <param name="completeOutput">Half-closes <paramref name="output"/> (e.g. <c>Socket.Shutdown(Send)</c>).</param>
    /// <param name="localName">How the local side is named in close reasons, e.g. "target".</param>
    /// <param name="bufferSize">Buffer per direction.</param>
    /// <param name="cancellationToken">Aborts the session.</param>
    /// <param name="afterFirstExchange">
    /// Called once, when bytes have crossed in both directions (the session works end to end), or else when it ends:
    /// the moment for work that should not compete with a session's opening exchange, such as a spare connection's
    /// TLS handshake.
    /// </param>
    /// <param name="endWhen">
    /// Ends the session when it completes, with a close frame carrying its reason, so the peer (and the user behind it)
    /// learns why; cancelling <paramref name="cancellationToken"/> instead aborts without one. The agent's kill switch
    /// uses it.
    /// </param>
    public static async Task<TunnelResult> RunAsync(
        WebSocket webSocket,
        Stream input,
        Stream output,
        Action completeOutput,
        string localName,
        int bufferSize = DataFrames.DefaultBufferSize,
        CancellationToken cancellationToken = default,
        Action? afterFirstExchange = null,
        Task<string>? endWhen = null)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var exchange = afterFirstExchange is null ? null : new FirstExchange(afterFirstExchange);
        var upstream = WebSocketPump.StreamToWebSocketAsync(input, webSocket, bufferSize, abort.Token, exchange is null ? null : exchange.DirectionMoved);
        var downstream = WebSocketPump.WebSocketToStreamAsync(webSocket, output, completeOutput, bufferSize, abort.Token, exchange is null ? null : exchange.DirectionMoved);

        if (endWhen is not null && await Task.WhenAny(upstream, downstream, endWhen).ConfigureAwait(false) == endWhen)
        {
            var ended = await EndAsync(webSocket, upstream, downstream, endWhen.Result, abort).ConfigureAwait(false);
            exchange?.Fire();
            return ended;
        }

        var first = await Task.WhenAny(upstream, downstream).ConfigureAwait(false);
        var outcome = first.Result;
        if (outcome.End != PumpEnd.Completed)
        {
            // The local side failed when the upstream could not read it or the downstream could not write it.
            // Then the WebSocket is still healthy: tell the peer why before tearing down, because cancelling a
            // pending receive aborts the WebSocket without a close frame.
            var localFailed = outcome.End == PumpEnd.Failed && (first == upstream) == (outcome.FailedSide == PumpSide.Source);
            if (localFailed)
            {
                await WebSocketClosing.CloseOutputAsync(webSocket, WebSocketCloseStatus.EndpointUnavailable, $"{localName} connection failed: {outcome.Reason}").ConfigureAwait(false);
            }

            await abort.CancelAsync().ConfigureAwait(false);
        }

        if (abort.IsCancellationRequested)
        {
            // Some streams (a console's stdin) ignore cancellation; an aborted session must not wait on them.
            await Task.WhenAny(Task.WhenAll(upstream, downstream), Task.Delay(AbandonAfter, CancellationToken.None)).ConfigureAwait(false);
        }
        else
        {
            await Task.WhenAll(upstream, downstream).ConfigureAwait(false);
        }

        exchange?.Fire();
        var result = new TunnelResult(Outcome(upstream), Outcome(downstream));
        await CloseAsync(webSocket, result).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Ends a session from this side: the close frame with the reason goes out first, the downstream then ends on the
    /// peer's answer (or the close timeout), and only then is the rest cancelled; cancelling the pending receive first
    /// would abort the connection with no close frame at all.
    /// </summary>
    private static async Task<TunnelResult> EndAsync(
        WebSocket webSocket, Task<PumpResult> upstream, Task<PumpResult> downstream, string reason, CancellationTokenSource abort)
    {
        await WebSocketClosing.CloseOutputAsync(webSocket, WebSocketCloseStatus.PolicyViolation, reason).ConfigureAwait(false);
        await Task.WhenAny(downstream, Task.Delay(WebSocketClosing.Timeout, CancellationToken.None)).ConfigureAwait(false);
        await abort.CancelAsync().ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(upstream, downstream), Task.Delay(AbandonAfter, CancellationToken.None)).ConfigureAwait(false);
        if (webSocket.State != WebSocketState.Closed)
        {
            webSocket.Abort();
        }

        PumpResult Ended(Task<PumpResult> pump) => Outcome(pump) with { End = PumpEnd.Canceled, Reason = reason };
        return new TunnelResult(Ended(upstream), Ended(downstream));
    }

    /// <summary>Calls its action once: when both directions have moved bytes, or when told to regardless.</summary>
    private sealed class FirstExchange(Action action)
    {
        private int _directions;
        private int _fired;

        public void DirectionMoved()
        {
            if (Interlocked.Increment(ref _directions) == 2)
            {
                Fire();
            }
        }

        public void Fire()
        {
            if (Interlocked.Exchange(ref _fired, 1) == 0)
            {
                action();
            }
        }
    }

    private static readonly TimeSpan AbandonAfter = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a session that ended cleanly waits for the peer's close frame. The peer closes only after the far end
    /// has read everything, which on a slow client takes as long as it takes; aborting sooner resets the connection and
    /// the server loses the bytes it had not relayed yet (issue 8, fault 1). A dead peer is caught by keep-alive first.
    /// </summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(10);

    private static PumpResult Outcome(Task<PumpResult> pump) =>
        pump.IsCompletedSuccessfully ? pump.Result : new PumpResult(PumpEnd.Canceled, 0, "abandoned");

    private static Task CloseAsync(WebSocket webSocket, TunnelResult result) => result.Succeeded
        ? WebSocketClosing.CloseAsync(webSocket, WebSocketCloseStatus.NormalClosure, "done", DrainTimeout)
        : WebSocketClosing.CloseAsync(webSocket, WebSocketCloseStatus.NormalClosure, "closed");
}

/// <summary>The outcome of a tunnelled session, one result per direction.</summary>
public readonly record struct TunnelResult(PumpResult LocalToRemote, PumpResult RemoteToLocal)
{
    /// <summary>Both directions finished with a half-close.</summary>
    public bool Succeeded => LocalToRemote.End == PumpEnd.Completed && RemoteToLocal.End == PumpEnd.Completed;

    /// <summary>The first readable reason the session ended abnormally, if any.</summary>
    public string? FailureReason => Succeeded ? null : RemoteToLocal.End is PumpEnd.PeerClosed or PumpEnd.Failed ? RemoteToLocal.Reason : LocalToRemote.Reason;
}
