using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Porthole.Agent.State;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Transport;

namespace Porthole.Agent.Sessions;

/// <summary>
/// Answers an <c>open</c>: enforces the local kill switch (and ends the session when it is turned off), dials the target, opens the session's own data
/// WebSocket and relays. A session is independent of the control channel that asked for it, so it survives
/// a control reconnect. Once a session has carried bytes both ways it refills <paramref name="spare"/>, so that the
/// next session's upgrade finds a connection with its handshakes done (not sooner: on a small machine the spare's TLS
/// handshake, here and in the server, would compete with this session's first bytes). When the server names a stream
/// in the <c>open</c>, the session travels on the agent's streams connection instead, which needs no connection of its own.
/// </summary>
public sealed class SessionHandler(
    Uri server, string credential, DataWebSocketConnector connector, SpareConnection spare, StreamsLink streams, RemoteAccessSwitch killSwitch, TargetPolicy policy, ILogger logger)
{
    /// <summary>Sessions between the kill switch's check and their end.</summary>
    private int _open;

    /// <summary>
    /// Waits until no session is open, at most <paramref name="limit"/>: the kill switch gives the server that long
    /// to end the sessions itself (and audit why) before the agent ends them.
    /// </summary>
    public async Task WhenNoneOpenAsync(TimeSpan limit)
    {
        var deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (Volatile.Read(ref _open) > 0 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Answers one <c>open</c> and carries the session to its end.</summary>
    /// <param name="open">What the server asks for.</param>
    /// <param name="control">Where failures to open are reported.</param>
    /// <param name="deviceName">This agent's device, as the server's welcome named it: a session the kill switch ends says so.</param>
    /// <param name="cancellationToken">The process's: a session outlives the control connection that asked for it.</param>
    public async Task HandleAsync(OpenSessionMessage open, ControlChannel control, string deviceName, CancellationToken cancellationToken)
    {
        // The kill switch is checked here, on the side that dials, whatever the server believes.
        if (killSwitch.TryStartSession() is not { } whenDisabled)
        {
            AgentLog.SessionRefusedDisabled(logger, open.SessionId);
            await ReportAsync(control, new OpenFailedMessage(open.SessionId, OpenFailureReason.Disabled, "remote access is disabled on this agent"), cancellationToken).ConfigureAwait(false);
            return;
        }

        // Turning the switch off ends this session too, wherever it is: dialling, upgrading or relaying. A relaying
        // session closes with the reason, which the server passes on to the client: the user learns why even when this
        // close gets there before the server's own.
        var switchedOff = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var whenSwitchedOff = whenDisabled.Register(() => switchedOff.TrySetResult($"remote access to device '{deviceName}' was disabled on its gateway"));
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, whenDisabled);
        Interlocked.Increment(ref _open);
        try
        {
            await OpenAsync(open, control, new SessionEnds(opening.Token, cancellationToken, switchedOff.Task)).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task OpenAsync(OpenSessionMessage open, ControlChannel control, SessionEnds ends)
    {
        if (open.StreamId is { } streamId)
        {
            await CarryOnStreamAsync(open, streamId, control, ends).ConfigureAwait(false);
            return;
        }

        // No stream named: the streams connection is down (or not offered). This session opens a connection of its
        // own; the ones after it can travel on the streams connection.
        streams.Want();

        using var socket = await DialAsync(open, control, ends.Opening).ConfigureAwait(false);
        if (socket is null)
        {
            return;
        }

        WebSocket webSocket;
        try
        {
            var uri = DataWebSocketConnector.ToWebSocketUri(server, $"/api/v1/agent/sessions/{Uri.EscapeDataString(open.SessionId)}");
            var headers = new Dictionary<string, string> { [ControlProtocol.SessionKeyHeader] = open.SessionKey };
            webSocket = await connector.ConnectAsync(uri, credential, ControlProtocol.DataSubProtocol, headers, ends.Opening).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException)
        {
            await ServerUnreachableAsync(open, control, ex.Message, ends.Opening).ConfigureAwait(false);
            return;
        }

        using (webSocket)
        {
            await RelayAsync(open, webSocket, socket, spare.Refill, ends).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Carries the session as a stream of the streams connection. The stream is registered before the dial, so that
    /// the server's close of a session it gave up on meanwhile is not lost; the acknowledgement then tells the server
    /// the target is reached.
    /// </summary>
    private async Task CarryOnStreamAsync(OpenSessionMessage open, uint streamId, ControlChannel control, SessionEnds ends)
    {
        MuxStream stream;
        try
        {
            var mux = await streams.GetAsync(TimeSpan.FromSeconds(2), ends.Opening).ConfigureAwait(false);
            stream = (mux ?? throw new InvalidOperationException("the streams connection is down")).Accept(streamId);
        }
        catch (InvalidOperationException ex)
        {
            await ServerUnreachableAsync(open, control, ex.Message, ends.Opening).ConfigureAwait(false);
            return;
        }

        using (stream)
        {
            using var socket = await DialAsync(open, control, ends.Opening).ConfigureAwait(false);
            if (socket is null)
            {
                return;
            }

            try
            {
                await stream.AcknowledgeAsync(ends.Opening).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                await ServerUnreachableAsync(open, control, ex.Message, ends.Opening).ConfigureAwait(false);
                return;
            }

            await RelayAsync(open, stream, socket, afterFirstExchange: null, ends).ConfigureAwait(false);
        }
    }

    /// <summary>Dials the target; on failure reports why to the server and returns <c>null</c>.</summary>
    private async Task<Socket?> DialAsync(OpenSessionMessage open, ControlChannel control, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(open.ConnectTimeoutMs, 100, 300_000));
        var (socket, failure, message) = await TargetDialer.DialAsync(open.Host, open.Port, policy, timeout, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            AgentLog.SessionFailed(logger, open.SessionId, open.Host, open.Port, failure.ToString()!, message!);
            await ReportAsync(control, new OpenFailedMessage(open.SessionId, failure!.Value, message!), cancellationToken).ConfigureAwait(false);
        }

        return socket;
    }

    private async Task RelayAsync(OpenSessionMessage open, WebSocket webSocket, Socket socket, Action? afterFirstExchange, SessionEnds ends)
    {
        if (open.StreamId is { } streamId)
        {
            AgentLog.StreamSessionStarted(logger, open.SessionId, open.Host, open.Port, streamId);
        }
        else
        {
            AgentLog.SessionStarted(logger, open.SessionId, open.Host, open.Port);
        }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var result = await StreamTunnel.RunAsync(
            webSocket, stream, stream, () => ShutdownSend(socket), "target", cancellationToken: ends.Stopping, afterFirstExchange: afterFirstExchange, endWhen: ends.SwitchedOff).ConfigureAwait(false);
        AgentLog.SessionEnded(logger, open.SessionId, result.RemoteToLocal.Bytes, result.LocalToRemote.Bytes, result.Succeeded ? "" : ": " + result.FailureReason);
    }

    private Task ServerUnreachableAsync(OpenSessionMessage open, ControlChannel control, string message, CancellationToken cancellationToken)
    {
        AgentLog.SessionFailed(logger, open.SessionId, open.Host, open.Port, nameof(OpenFailureReason.ServerUnreachable), message);
        return ReportAsync(control, new OpenFailedMessage(open.SessionId, OpenFailureReason.ServerUnreachable, message), cancellationToken);
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

    /// <summary>
    /// How one session ends: <see cref="Opening"/> cancels it while it dials and upgrades (the process stopping or the
    /// kill switch); once it relays, <see cref="Stopping"/> aborts it and <see cref="SwitchedOff"/> closes it with its reason.
    /// </summary>
    private readonly record struct SessionEnds(CancellationToken Opening, CancellationToken Stopping, Task<string> SwitchedOff);
}
