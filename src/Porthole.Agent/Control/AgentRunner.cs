using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Porthole.Agent.Sessions;
using Porthole.Agent.State;
using Porthole.Protocol.Control;
using Porthole.Tunnel.Transport;

namespace Porthole.Agent.Control;

/// <summary>
/// Keeps the control channel up: connect, say hello, serve <c>open</c> requests, and on loss reconnect with
/// backoff. Stops for good only when the server says retrying cannot help (credential rejected, protocol
/// refused).
/// </summary>
public sealed class AgentRunner(AgentState state, RemoteAccessSwitch killSwitch, IReadOnlyList<TargetRule> allow, IReadOnlyList<TargetRule> deny, KeepAliveSettings keepAlive, ILogger logger)
{
    /// <summary>Exit code when the server rejected the device credential.</summary>
    public const int CredentialRejectedExitCode = 3;

    /// <summary>Exit code when the server refused the agent's protocol.</summary>
    public const int RefusedExitCode = 4;

    private readonly Backoff _backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

    /// <summary>The control channel while one is up, for telling the server that the kill switch moved.</summary>
    private ControlChannel? _control;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var server = new Uri(state.Server);
        var trust = new ServerTrust(state.Fingerprint, state.CaCertificatePath, state.Insecure);
        using var invoker = new HttpMessageInvoker(trust.CreateHandler());
        var connector = new DataWebSocketConnector(invoker, keepAlive);
        var policy = TargetPolicy.CreateDefault(allow, deny, await ServerEndpointsAsync(server, cancellationToken).ConfigureAwait(false));
        var streams = new StreamsLink(server, state.Credential, connector, logger);
        var sessions = new SessionHandler(server, state.Credential, connector, new SpareConnection(invoker, server), streams, killSwitch, policy, logger);
        var controlUri = DataWebSocketConnector.ToWebSocketUri(server, "/api/v1/agent/control");
        _ = killSwitch.WatchAsync(TimeSpan.FromSeconds(1), enabled => SwitchMovedAsync(enabled, sessions), cancellationToken);

        while (!cancellationToken.IsCancellationRequested)
        {
            string reason;
            try
            {
                using var webSocket = await connector.ConnectAsync(controlUri, state.Credential, ControlProtocol.SubProtocol, null, cancellationToken).ConfigureAwait(false);
                reason = await ServeAsync(webSocket, server, sessions, streams, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (WebSocketRejectedException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                AgentLog.CredentialRejected(logger, (int)ex.StatusCode);
                return CredentialRejectedExitCode;
            }
            catch (AgentRefusedException ex)
            {
                AgentLog.Refused(logger, ex.Message);
                return RefusedExitCode;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or OperationCanceledException)
            {
                reason = ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
            }

            var delay = _backoff.Next();
            AgentLog.Disconnected(logger, reason, delay);
            try
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return 0;
    }

    /// <summary>
    /// The kill switch moved. The server hears it now, or in the next hello if the control channel is down. Turned off,
    /// the open sessions end when this returns: the server first gets up to two seconds to end them itself, tell both
    /// ends why and audit it; the agent ends the rest regardless, each with a close frame that says why, so neither the
    /// switch nor the user's message depends on the server.
    /// </summary>
    private async Task SwitchMovedAsync(bool enabled, SessionHandler sessions)
    {
        AgentLog.SwitchMoved(logger, enabled ? "enabled" : "disabled", killSwitch.MarkerPath);
        if (Volatile.Read(ref _control) is not { } control)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await control.SendAsync(new AgentStatusMessage(enabled), timeout.Token).ConfigureAwait(false);
            if (!enabled)
            {
                await sessions.WhenNoneOpenAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The channel dropped meanwhile; the next hello carries the switch.
        }
    }

    /// <summary>The server's own addresses and port: a session must never be turned back against the server.</summary>
    private static async Task<IReadOnlyList<TargetRule>> ServerEndpointsAsync(Uri server, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = IPAddress.TryParse(server.Host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(server.Host, cancellationToken).ConfigureAwait(false);
            return [.. addresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Select(a =>
                TargetRule.Parse(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{a}]:{server.Port}" : $"{a}:{server.Port}"))];
        }
        catch (System.Net.Sockets.SocketException)
        {
            return [];
        }
    }

    private async Task<string> ServeAsync(WebSocket webSocket, Uri server, SessionHandler sessions, StreamsLink streams, CancellationToken cancellationToken)
    {
        using var control = new ControlChannel(webSocket);
        var remoteAccessEnabled = killSwitch.IsEnabled;
        await control.SendAsync(new HelloMessage(ControlProtocol.MinVersion, ControlProtocol.MaxVersion, AgentInfo.Version, remoteAccessEnabled, Dns.GetHostName(), Streams: true), cancellationToken).ConfigureAwait(false);
        var answer = await control.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        string deviceName;
        switch (answer.Message)
        {
            case WelcomeMessage welcome:
                deviceName = welcome.DeviceName;
                _backoff.Reset();
                AgentLog.Connected(logger, server.GetLeftPart(UriPartial.Authority), welcome.DeviceName, welcome.Version, remoteAccessEnabled ? "enabled" : "disabled");
                streams.Offer(welcome.Streams, cancellationToken);

                break;
            case RejectMessage reject:
                throw new AgentRefusedException($"{reject.Code}: {reject.Message}");
            default:
                return "no welcome from the server: " + (answer.Error ?? "unexpected message");
        }

        Volatile.Write(ref _control, control);
        try
        {
            if (killSwitch.IsEnabled != remoteAccessEnabled)
            {
                // The switch moved between the hello and now, when no channel was there to hear it.
                await control.SendAsync(new AgentStatusMessage(!remoteAccessEnabled), cancellationToken).ConfigureAwait(false);
            }

            return await ReceiveAsync(control, sessions, deviceName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _control, null);
        }
    }

    private static async Task<string> ReceiveAsync(ControlChannel control, SessionHandler sessions, string deviceName, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await control.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (read.IsClosed)
            {
                await control.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye").ConfigureAwait(false);
                return "closed by the server" + (string.IsNullOrEmpty(read.Error) ? "" : ": " + read.Error);
            }

            if (read.Message is OpenSessionMessage open)
            {
                // Sessions run on the process's token, not this connection's: they outlive a reconnect.
                _ = Task.Run(() => sessions.HandleAsync(open, control, deviceName, cancellationToken), CancellationToken.None);
            }
        }
    }
}

/// <summary>The server refused this agent in a way that retrying cannot fix.</summary>
public sealed class AgentRefusedException(string message) : Exception(message);
