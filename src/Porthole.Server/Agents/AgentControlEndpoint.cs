using System.Net.WebSockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Porthole.Server.Hosting;
using Porthole.Protocol.Control;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Identity;
using Porthole.Server.Relay;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Agents;

/// <summary>
/// <c>GET /api/v1/agent/control</c> (WebSocket): the agent's one long-lived control channel. The first exchange
/// negotiates the protocol version (hello → welcome or reject); afterwards the server sends <c>open</c> and
/// the agent answers failures with <c>open-failed</c> and reports kill-switch changes with <c>status</c>.
/// </summary>
public static class AgentControlEndpoint
{
    private static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(15);

    public static void MapAgentControl(this IEndpointRouteBuilder agent)
    {
        agent.MapGet("/control", RunAsync).RequireAuthorization(Permissions.Agent);
    }

    private static async Task RunAsync(
        HttpContext context, IServiceScopeFactory scopes, IDevicePresence presence, ISessionBroker broker, TimeProvider time, IOptions<PortholeServerOptions> options, ShutdownDrain drain, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(AgentControlEndpoint));
        if (RefuseUpgrade(context, drain))
        {
            return;
        }

        var deviceId = context.User.GetDeviceId()!;
        var deviceName = context.User.GetActor()["device:".Length..];
        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = ControlProtocol.SubProtocol,
            KeepAliveInterval = options.Value.KeepAliveInterval,
            KeepAliveTimeout = KeepAliveSettings.WebSocketPongTimeout,
        });

        using var control = new ControlChannel(webSocket);
        var hello = await ReadHelloAsync(control, context.RequestAborted);
        if (hello is null)
        {
            await RejectAsync(control, "bad-hello", "the first control message must be 'hello'", context.RequestAborted);
            AgentLog.Refused(logger, deviceName, "no hello");
            return;
        }

        var version = ControlProtocol.Negotiate(hello.MinVersion, hello.MaxVersion);
        if (version is null)
        {
            var reason = $"incompatible protocol: the server speaks v{ControlProtocol.MinVersion}-v{ControlProtocol.MaxVersion}, the agent v{hello.MinVersion}-v{hello.MaxVersion}";
            await RejectAsync(control, "incompatible-version", reason, context.RequestAborted);
            AgentLog.Refused(logger, deviceName, reason);
            return;
        }

        var channel = new AgentControlChannel(control, deviceId, hello.AgentVersion, hello.RemoteAccessEnabled, time.GetUtcNow(), hello.Streams);
        await RecordAsync(scopes, deviceId, channel, "agent.connect", $"agent {hello.AgentVersion}, remote access {(hello.RemoteAccessEnabled ? "enabled" : "disabled")}", context.RequestAborted);

        // Online before the welcome leaves: an agent that has read its welcome is never "offline" to a client.
        presence.Attach(channel);
        string endReason;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);

        // Closing from this side sends the close frame and lets the receive loop end on the agent's answer: cancelling
        // the pending receive instead would reset the connection, and the agent would never learn why.
        using var onClose = channel.Closed.Register(() => _ = CloseThenStopAsync(control, channel, stop));
        try
        {
            await channel.WelcomeAsync(new WelcomeMessage(version.Value, deviceId, deviceName, options.Value.AgentStreams), context.RequestAborted);
            AgentLog.Connected(logger, deviceName, hello.AgentVersion, version.Value, hello.RemoteAccessEnabled ? "enabled" : "disabled");
            endReason = await ReceiveLoopAsync(control, channel, broker, scopes, logger, deviceName, stop.Token);
            endReason = channel.CloseReason ?? endReason;
        }
        catch (OperationCanceledException)
        {
            endReason = channel.CloseReason ?? "connection aborted";
        }
        catch (WebSocketException ex)
        {
            endReason = ex.Message;
        }
        finally
        {
            presence.Detach(channel);
            channel.Dispose();
        }

        await RecordAsync(scopes, deviceId, null, "agent.disconnect", endReason, CancellationToken.None);
        AgentLog.Disconnected(logger, deviceName, endReason);
    }

    /// <summary>
    /// Answers an agent's long-lived WebSocket request that must not be taken: 503 while the server drains (an agent
    /// accepted now would only be closed again in a moment; it retries with backoff), 426 when it is no WebSocket.
    /// </summary>
    internal static bool RefuseUpgrade(HttpContext context, ShutdownDrain drain)
    {
        if (drain.Draining)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return true;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return true;
        }

        return false;
    }

    private static async Task<string> ReceiveLoopAsync(
        ControlChannel control, AgentControlChannel channel, ISessionBroker broker, IServiceScopeFactory scopes, ILogger logger, string deviceName, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await control.ReceiveAsync(cancellationToken);
            if (read.IsClosed)
            {
                await control.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
                return "closed by the agent: " + read.Error;
            }

            switch (read.Message)
            {
                case OpenFailedMessage failed:
                    // Only sessions of this device: one agent cannot fail another device's session.
                    if (broker.Find(failed.SessionId) is { } session && session.Target.DeviceId == channel.DeviceId)
                    {
                        session.TryFailOpen(failed.Reason, failed.Message);
                    }

                    break;

                case AgentStatusMessage status:
                    channel.RemoteAccessEnabled = status.RemoteAccessEnabled;
                    if (!status.RemoteAccessEnabled)
                    {
                        // The agent ends its side of the open sessions itself if we have not within two seconds;
                        // ending them here first audits why.
                        await EndSessionsAsync(scopes, deviceName, channel.DeviceId, cancellationToken);
                    }

                    await RecordAsync(scopes, channel.DeviceId, channel, "agent.status", $"remote access {(status.RemoteAccessEnabled ? "enabled" : "disabled")}", cancellationToken);

                    break;

                default:
                    AgentLog.BadMessage(logger, deviceName, read.Error ?? $"unexpected '{read.Message?.GetType().Name}'");
                    break;
            }
        }
    }

    private static async Task CloseThenStopAsync(ControlChannel control, AgentControlChannel channel, CancellationTokenSource stop)
    {
        await WebSocketClosing.CloseOutputAsync(control.WebSocket, WebSocketCloseStatus.NormalClosure, channel.CloseReason ?? "closing");
        await Task.Delay(WebSocketClosing.Timeout);
        try
        {
            // The agent did not answer the close in time.
            await stop.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // It did; the request is over.
        }
    }

    private static async Task<HelloMessage?> ReadHelloAsync(ControlChannel control, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HelloTimeout);
        try
        {
            return (await control.ReceiveAsync(timeout.Token)).Message as HelloMessage;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task RejectAsync(ControlChannel control, string code, string message, CancellationToken cancellationToken)
    {
        if (control.WebSocket.State == WebSocketState.Open)
        {
            await control.SendAsync(new RejectMessage(code, message), cancellationToken);
            await control.CloseAsync(WebSocketCloseStatus.PolicyViolation, code);
        }
    }

    /// <summary>Keeps the device row (version, kill switch, last seen) and the audit log current.</summary>
    private static async Task EndSessionsAsync(IServiceScopeFactory scopes, string deviceName, string deviceId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var ended = await scope.ServiceProvider.GetRequiredService<OpenSessions>().EndOnDeviceAsync(deviceId, $"remote access to device '{deviceName}' was disabled on its gateway");
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();
        foreach (var session in ended)
        {
            await audit.WriteAsync("device:" + deviceName, "session.terminate", $"device:{session.DeviceName}/{session.EndpointName}",
                detail: $"session {session.Id} of {session.Username}: remote access disabled on the gateway", cancellationToken: cancellationToken);
        }
    }

    private static async Task RecordAsync(IServiceScopeFactory scopes, string deviceId, IAgentChannel? channel, string action, string detail, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortholeDbContext>();
        var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == deviceId, cancellationToken);
        if (device is null)
        {
            return;
        }

        device.LastSeenAt = time.GetUtcNow();
        if (channel is not null)
        {
            device.AgentVersion = channel.AgentVersion;
            device.AgentRemoteAccessEnabled = channel.RemoteAccessEnabled;
        }

        scope.ServiceProvider.GetRequiredService<AuditLog>().Add("device:" + device.Name, action, "device:" + device.Name, detail: detail);
        await db.SaveChangesAsync(cancellationToken);
    }
}
