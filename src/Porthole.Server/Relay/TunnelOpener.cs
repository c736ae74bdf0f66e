using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Server.Agents;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Server.WebProxy;
using Porthole.Tunnel.Streams;

namespace Porthole.Server.Relay;

/// <summary>
/// Opens a tunnel to an endpoint through its device's agent, for any consumer: the session API (CLI and browser
/// viewers) and the web proxy's connections. Applies the rules every session obeys — session limits, remote-access
/// settings, presence — asks the agent to dial, and answers only once the agent has reached the target or said why
/// it could not. Failures are logged and audited; the caller audits success in its own terms.
/// </summary>
public sealed class TunnelOpener(
    IDevicePresence presence,
    AgentStreams streams,
    ISessionBroker broker,
    WebSessionRegistry webSessions,
    ShutdownDrain drain,
    DeviceCatalog catalog,
    AuditLog audit,
    TimeProvider time,
    IOptions<PortholeServerOptions> options,
    ILogger<TunnelOpener> logger)
{
    public async Task<TunnelOpening> OpenAsync(TunnelRequest request, CancellationToken cancellationToken)
    {
        var (device, endpoint) = (request.Device, request.Endpoint);
        var target = $"device:{device.Name}/{endpoint.Name}";
        if (await RefusalAsync(request, cancellationToken) is { } refusal)
        {
            await audit.WriteAsync(request.Actor, "session.open", target, AuditOutcomes.Failure, refusal.ProblemDetails.Detail, request.ClientAddress, cancellationToken);
            return new TunnelOpening(null, refusal);
        }

        var settings = options.Value;
        var session = broker.Create(new SessionTarget(device.Id, device.Name, endpoint.Id, endpoint.Name, endpoint.Host, endpoint.Port, request.UserId, request.Username,
            endpoint.Protocol, request.Action, request.ClientAddress, request.WebSessionId));

        AgentLegOutcome outcome;
        MuxStream? stream = null;
        try
        {
            // The agent may have gone between the check and now; its channel is then null and the send below fails.
            var channel = presence.Find(device.Id) ?? throw new ObjectDisposedException("agent channel");

            // An agent with a streams connection carries the session on it; any other opens a connection for it (and
            // one with streams, but none up, opens the streams connection too, for the sessions after this one).
            stream = settings.AgentStreams && channel.Streams ? streams.Find(device.Id)?.TryReserve() : null;
            if (stream is not null)
            {
                _ = AgentLegHolder.HoldStreamAsync(session, stream, broker, settings.ClientAttachTimeout, time, logger);
            }

            var open = new OpenSessionMessage(session.Id, stream is null ? session.AgentKey : "", endpoint.Host, endpoint.Port,
                (int)settings.TargetConnectTimeout.TotalMilliseconds, stream?.Id);
            await channel.SendAsync(open, cancellationToken);

            // The agent gets the connect timeout plus time to open its data WebSocket.
            outcome = await session.AgentOutcome.WaitAsync(settings.TargetConnectTimeout + TimeSpan.FromSeconds(10), time, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            outcome = AgentLegOutcome.Failed(OpenFailureReason.ServerUnreachable, "the agent did not answer in time");
        }

        if (outcome.Leg is not null)
        {
            return new TunnelOpening(session, null);
        }

        broker.Remove(session);
        stream?.Dispose();
        var problem = ToProblem(outcome, device.Name, endpoint);
        RelayLog.OpenFailed(logger, session.Id, problem.ProblemDetails.Detail ?? "");
        await audit.WriteAsync(request.Actor, "session.open", target, AuditOutcomes.Failure, problem.ProblemDetails.Detail, request.ClientAddress, CancellationToken.None);
        return new TunnelOpening(null, problem);
    }

    /// <summary>Why the session must not be opened, checked before the agent is asked; <c>null</c> when it may.</summary>
    private async Task<ProblemHttpResult?> RefusalAsync(TunnelRequest request, CancellationToken cancellationToken)
    {
        var (device, settings) = (request.Device, options.Value);
        if (drain.Draining)
        {
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ShuttingDown, "Shutting down",
                "the server is shutting down and opens no new sessions; try again in a moment");
        }

        // A web session's later connections count as the one web session, which was counted when it was created.
        if (request.CheckLimits)
        {
            var active = broker.Active.Where(s => s.Target.WebSessionId is null).ToList();
            var web = webSessions.Active;
            var perUser = request.Limits?.MaxSessionsPerUser ?? settings.MaxSessionsPerUser;
            if (active.Count(s => s.Target.UserId == request.UserId) + web.Count(w => w.UserId == request.UserId) >= perUser)
            {
                return ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.SessionLimit, "Too many sessions",
                    $"you already have {perUser} open sessions, the most allowed; close one first");
            }

            if (active.Count(s => s.Target.DeviceId == device.Id) + web.Count(w => w.DeviceId == device.Id) >= settings.MaxSessionsPerDevice)
            {
                return ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.SessionLimit, "Too many sessions",
                    $"device '{device.Name}' already carries {settings.MaxSessionsPerDevice} open sessions, the most allowed");
            }
        }

        // Server-side rules first: a disabled device is refused with its reason whether or not it is online.
        var effective = await catalog.EffectiveAsync(device, cancellationToken);
        if (!effective.Enabled && effective.Source != "agent")
        {
            return ApiProblem.Conflict(ProblemCodes.RemoteAccessDisabled, $"remote access to device '{device.Name}' is disabled by {effective.Source}");
        }

        if (presence.Find(device.Id) is null)
        {
            var seen = device.LastSeenAt is { } at ? $" (last seen {at:u})" : " (never connected)";
            return ApiProblem.Conflict(ProblemCodes.DeviceOffline, $"device '{device.Name}' is offline{seen}");
        }

        return effective.Enabled
            ? null
            : ApiProblem.Conflict(ProblemCodes.RemoteAccessDisabled, $"remote access is disabled on the agent of device '{device.Name}' (--disable-remote-access)");
    }

    private static ProblemHttpResult ToProblem(AgentLegOutcome outcome, string deviceName, DeviceEndpoint endpoint)
    {
        var where = $"{endpoint.Host}:{endpoint.Port}";
        return outcome.Failure switch
        {
            OpenFailureReason.Refused => ApiProblem.Create(StatusCodes.Status502BadGateway, ProblemCodes.TargetRefused, "Target refused",
                $"{where} refused the connection (agent of '{deviceName}': {outcome.Message})"),
            OpenFailureReason.Unreachable => ApiProblem.Create(StatusCodes.Status502BadGateway, ProblemCodes.TargetUnreachable, "Target unreachable",
                $"{where} is unreachable from '{deviceName}' (agent: {outcome.Message})"),
            OpenFailureReason.Timeout => ApiProblem.Create(StatusCodes.Status504GatewayTimeout, ProblemCodes.TargetTimeout, "Target timed out",
                $"{where} did not answer in time (agent of '{deviceName}': {outcome.Message})"),
            OpenFailureReason.Denied => ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.TargetDenied, "Target denied",
                $"the agent of '{deviceName}' refuses to dial {where}: {outcome.Message}"),
            OpenFailureReason.Disabled => ApiProblem.Conflict(ProblemCodes.RemoteAccessDisabled,
                $"remote access is disabled on the agent of device '{deviceName}' (--disable-remote-access)"),
            _ => ApiProblem.Create(StatusCodes.Status504GatewayTimeout, ProblemCodes.AgentTimeout, "Agent did not answer",
                $"the agent of '{deviceName}' did not open the session: {outcome.Message}"),
        };
    }
}

/// <summary>
/// Who wants a tunnel to which endpoint, and what for. The device comes with its tags (the remote-access rules need
/// them). <c>WebSessionId</c> is set for the connections of a web session, which are listed as that one web session;
/// <c>CheckLimits</c> says whether the per-user and per-device session limits apply (not to a running web session's
/// further connections).
/// </summary>
public sealed record TunnelRequest(
    Device Device, DeviceEndpoint Endpoint, string UserId, string Username, string Actor, string Action, string? ClientAddress,
    string? WebSessionId = null, bool CheckLimits = true)
{
    /// <summary>The caller's limits by role (<c>Porthole:RoleLimits</c>); <c>null</c> means the global ones.</summary>
    public SessionLimits? Limits { get; init; }
}

/// <summary>An opened session whose agent leg is attached, or the problem that says why there is none.</summary>
public readonly record struct TunnelOpening(PendingSession? Session, ProblemHttpResult? Problem);
