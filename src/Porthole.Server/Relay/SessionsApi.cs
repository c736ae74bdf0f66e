using Microsoft.EntityFrameworkCore;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Api;
using Porthole.Protocol.Control;
using Porthole.Server.Agents;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Vault;
using Porthole.Server.Endpoints;
using Porthole.Server.Hosting;
using Porthole.Server.Http;
using Porthole.Server.Identity;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Relay;

/// <summary>
/// Opening and carrying sessions. <c>POST /api/v1/sessions</c> checks rights and state, asks the agent to dial
/// the target and answers only once the agent has (so every failure is a problem-details response the CLI can
/// print); the client then joins at <c>/api/v1/sessions/{id}/stream</c>, the agent at <c>/api/v1/agent/sessions/{id}</c>.
/// </summary>
public static class SessionsApi
{
    public static void MapSessionsApi(this IEndpointRouteBuilder api)
    {
        var sessions = api.MapGroup("/sessions").WithTags("Sessions");
        sessions.MapPost("/", OpenAsync).RequireAuthorization(Permissions.RemoteAccessConnect);
        sessions.MapGet("/", ListAsync).RequireAuthorization(Permissions.Authenticated);
        sessions.MapDelete("/{sessionId}", TerminateAsync).RequireAuthorization(Permissions.Authenticated);
        // Browsers open WebSockets over HTTP/2 as an extended CONNECT (RFC 8441), the CLI over HTTP/1.1 as a GET.
        sessions.MapMethods("/{sessionId}/stream", [HttpMethods.Get, HttpMethods.Connect], StreamAsync).RequireAuthorization(Permissions.RemoteAccessConnect);
    }

    public static void MapAgentSessions(this IEndpointRouteBuilder agent)
    {
        agent.MapGet("/sessions/{sessionId}", AgentLegAsync).RequireAuthorization(Permissions.Agent);
    }

    private static async Task<Results<Created<CreateSessionResponse>, ProblemHttpResult>> OpenAsync(
        CreateSessionRequest request,
        HttpContext context,
        PortholeDbContext db,
        IDevicePresence presence,
        ISessionBroker broker,
        AuditLog audit,
        DeviceCatalog catalog,
        CredentialVault vault,
        TimeProvider time,
        IOptions<PortholeServerOptions> options,
        ILoggerFactory loggers,
        ShutdownDrain drain,
        CancellationToken cancellationToken)
    {
        if (drain.Draining)
        {
            context.Response.Headers.RetryAfter = "5";
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ShuttingDown, "Shutting down",
                "the server is shutting down and opens no new sessions; try again in a moment");
        }

        var action = request.Action ?? Actions.Tunnel;
        if (!Actions.All.Contains(action))
        {
            return ApiProblem.Validation("action must be one of: " + string.Join(", ", Actions.All));
        }

        var (endpoint, notFound) = await EndpointsApi.FindAsync(context, db, audit, request.Device ?? "", request.Endpoint ?? "", Permissions.RemoteAccessConnect, action, cancellationToken);
        if (endpoint is null)
        {
            return notFound!;
        }

        var device = endpoint.Device!;
        var actor = context.User.GetActor();
        var target = $"device:{device.Name}/{endpoint.Name}";
        var channel = presence.Find(device.Id);
        var effective = await catalog.EffectiveAsync(device, cancellationToken);
        // Server-side rules first: a disabled device is refused with its reason whether or not it is online.
        var serverSideSsh = action == Actions.Terminal && endpoint.Protocol == "ssh";
        ProblemHttpResult? refusal = null;
        var settings = options.Value;
        var limits = settings.LimitsFor(context.GetUserAccess().RolesAllowing(Permissions.RemoteAccessConnect, device, action));
        var active = broker.Active;
        if (active.Count(s => s.Target.UserId == context.User.GetUserId()) >= limits.MaxSessionsPerUser)
        {
            refusal = ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.SessionLimit, "Too many sessions",
                $"you already have {limits.MaxSessionsPerUser} open sessions, the most allowed; close one first");
        }
        else if (active.Count(s => s.Target.DeviceId == device.Id) >= settings.MaxSessionsPerDevice)
        {
            refusal = ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.SessionLimit, "Too many sessions",
                $"device '{device.Name}' already carries {settings.MaxSessionsPerDevice} open sessions, the most allowed");
        }
        else if (serverSideSsh && endpoint.CredentialKind is not (CredentialKinds.SshPassword or CredentialKinds.SshKey))
        {
            refusal = ApiProblem.Conflict(ProblemCodes.CredentialRequired,
                $"the browser terminal for {device.Name}/{endpoint.Name} needs a stored SSH credential (porthole endpoints set-credential); 'porthole forward' needs none");
        }
        else if (!effective.Enabled && effective.Source != "agent")
        {
            refusal = ApiProblem.Conflict(ProblemCodes.RemoteAccessDisabled, $"remote access to device '{device.Name}' is disabled by {effective.Source}");
        }
        else if (channel is null)
        {
            var seen = device.LastSeenAt is { } at ? $" (last seen {at:u})" : " (never connected)";
            refusal = ApiProblem.Conflict(ProblemCodes.DeviceOffline, $"device '{device.Name}' is offline{seen}");
        }
        else if (!effective.Enabled)
        {
            refusal = ApiProblem.Conflict(ProblemCodes.RemoteAccessDisabled, $"remote access is disabled on the agent of device '{device.Name}' (--disable-remote-access)");
        }

        if (refusal is not null)
        {
            await audit.WriteAsync(actor, "session.open", target, AuditOutcomes.Failure, refusal.ProblemDetails.Detail, context.ClientAddress(), cancellationToken);
            return refusal;
        }

        var session = broker.Create(new SessionTarget(device.Id, device.Name, endpoint.Id, endpoint.Name, endpoint.Host, endpoint.Port, context.User.GetUserId()!, context.User.GetUsername(),
            endpoint.Protocol, action, context.ClientAddress()));
        session.Limits = limits;
        var logger = loggers.CreateLogger(typeof(SessionsApi));
        var open = new OpenSessionMessage(session.Id, session.AgentKey, endpoint.Host, endpoint.Port, (int)settings.TargetConnectTimeout.TotalMilliseconds);

        AgentLegOutcome outcome;
        try
        {
            await channel!.SendAsync(open, cancellationToken);

            // The agent gets the connect timeout plus time to open its data WebSocket.
            outcome = await session.AgentOutcome.WaitAsync(settings.TargetConnectTimeout + TimeSpan.FromSeconds(10), time, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            outcome = AgentLegOutcome.Failed(OpenFailureReason.ServerUnreachable, "the agent did not answer in time");
        }

        if (outcome.WebSocket is null)
        {
            broker.Remove(session);
            var problem = ToProblem(outcome, device.Name, endpoint);
            RelayLog.OpenFailed(logger, session.Id, problem.ProblemDetails.Detail ?? "");
            await audit.WriteAsync(actor, "session.open", target, AuditOutcomes.Failure, problem.ProblemDetails.Detail, context.ClientAddress(), CancellationToken.None);
            return problem;
        }

        RelayLog.Opened(logger, session.Id, session.Target.Username, device.Name, endpoint.Name);
        if (serverSideSsh)
        {
            session.UseSshTerminal(new Ssh.SshTerminalTarget(endpoint.Id, endpoint.CredentialUsername ?? "", endpoint.CredentialKind!, vault.Unprotect(endpoint.ProtectedSecret!), endpoint.SshHostKey));
        }

        var storedVnc = action == Actions.Vnc && endpoint.CredentialKind == CredentialKinds.VncPassword && endpoint.ProtectedSecret is not null;
        if (storedVnc)
        {
            session.UseVncPassword(vault.Unprotect(endpoint.ProtectedSecret!).Password ?? "");
        }

        await audit.WriteAsync(actor, "session.open", target,
            detail: $"session {session.Id}, {action}, {endpoint.Protocol} {endpoint.Host}:{endpoint.Port}{(storedVnc ? ", stored VNC password" : "")}",
            clientAddress: context.ClientAddress(), cancellationToken: CancellationToken.None);
        var path = $"/api/v1/sessions/{session.Id}/stream";
        return TypedResults.Created(path, new CreateSessionResponse(session.Id, path, session.ClientKey, session.CreatedAt + settings.ClientAttachTimeout));
    }

    private static ProblemHttpResult ToProblem(AgentLegOutcome outcome, string deviceName, Data.DeviceEndpoint endpoint)
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

    private static async Task StreamAsync(
        string sessionId, HttpContext context, ISessionBroker broker, IServiceScopeFactory scopes, TimeProvider time, IOptions<PortholeServerOptions> options, ILoggerFactory loggers)
    {
        var session = broker.Find(sessionId);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.Validation, "WebSocket required", "this endpoint carries a session over a WebSocket");
            return;
        }

        // A browser attaches the session cookie to a WebSocket from any page (cross-site WebSocket hijacking): a
        // cookie-authenticated stream must come from the console's own origin. Bearer-token clients set no Origin.
        if (context.User.Identity?.AuthenticationType == WebSessions.SchemeName && !IsSameOrigin(context.Request))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied",
                "a session stream opened with the session cookie must come from this server's own pages (Origin mismatch)");
            return;
        }

        var key = SessionKeyOf(context);

        if (session is null || !session.TryClaimClient(key, context.User.GetUserId() ?? ""))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound, "Not found", "the session does not exist, has expired or was already joined");
            return;
        }

        var agentSocket = session.AgentOutcome.Result.WebSocket!;
        var logger = loggers.CreateLogger(typeof(SessionsApi));
        using var client = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = ControlProtocol.DataSubProtocol,
            KeepAliveInterval = options.Value.KeepAliveInterval,
            KeepAliveTimeout = KeepAliveSettings.WebSocketPongTimeout,
        });

        SessionRelayResult outcome;
        var limits = session.Limits ?? options.Value.LimitsFor([]);
        using var lifetime = new SessionLifetime(limits.IdleTimeout, limits.MaxLifetime, time);
        session.Start(lifetime);
        try
        {
            outcome = await SessionRelay.RunAsync(session, client, agentSocket, lifetime, scopes, context.RequestAborted);
        }
        finally
        {
            broker.Remove(session);
        }

        var result = outcome.Relay;
        var reason = outcome.HandshakeFailure ?? (string.IsNullOrEmpty(result.EndReason) ? null : result.EndReason) ?? result.ClientToAgent.Reason ?? result.AgentToClient.Reason ?? "closed";
        RelayLog.Ended(logger, session.Id, result.ClientToAgent.Bytes, result.AgentToClient.Bytes, reason);
        var target = session.Target;
        var duration = time.GetUtcNow() - session.CreatedAt;
        // The session is over whatever the store says: a locked or full database delays its record, never drops it silently.
        await DurableAuditWriter.WriteAsync(scopes, logger,
            "user:" + target.Username, "session.close", $"device:{target.DeviceName}/{target.EndpointName}",
            outcome.HandshakeFailure is null ? AuditOutcomes.Success : AuditOutcomes.Failure,
            $"session {session.Id}, {target.Action}, {target.Protocol}: {result.ClientToAgent.Bytes} bytes up, {result.AgentToClient.Bytes} bytes down, {duration.TotalSeconds:0.###} s, {reason}",
            target.ClientAddress);
    }

    /// <summary>Sub-protocol entry that carries the client key from a browser, which cannot set headers on a WebSocket.</summary>
    internal const string KeySubProtocolPrefix = "porthole.key.";

    /// <summary>The client key: the <c>Porthole-Session-Key</c> header (CLI), else a <c>porthole.key.*</c> sub-protocol entry (browser).</summary>
    private static string SessionKeyOf(HttpContext context)
    {
        var header = context.Request.Headers[ControlProtocol.SessionKeyHeader].ToString();
        if (header.Length > 0)
        {
            return header;
        }

        var entry = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p.StartsWith(KeySubProtocolPrefix, StringComparison.Ordinal));
        return entry is null ? "" : entry[KeySubProtocolPrefix.Length..];
    }

    /// <summary>Whether <c>Origin</c> is exactly this request's own scheme://host[:port] (RFC 6455 section 10.2).</summary>
    private static bool IsSameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Your own sessions, and those on devices where you hold <c>sessions:manage</c>.</summary>
    private static async Task<Ok<List<ActiveSessionDto>>> ListAsync(HttpContext context, ISessionBroker broker, PortholeDbContext db, CancellationToken cancellationToken)
    {
        var visible = await VisibleAsync(context, broker, db, cancellationToken);
        return TypedResults.Ok(visible.OrderBy(s => s.CreatedAt).Select(s => new ActiveSessionDto(
            s.Id, s.Target.Username, s.Target.DeviceName, s.Target.EndpointName, s.Target.Action, s.Target.Protocol, s.Target.ClientAddress, s.CreatedAt, s.Joined)).ToList());
    }

    /// <summary>Ends a session: both sides get a close frame saying who ended it. Unknown and foreign sessions are 404 (and audited).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> TerminateAsync(
        string sessionId, HttpContext context, ISessionBroker broker, PortholeDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var session = (await VisibleAsync(context, broker, db, cancellationToken)).FirstOrDefault(s => s.Id == sessionId);
        if (session is null)
        {
            await audit.WriteAsync(context.User.GetActor(), "session.terminate", "session:" + sessionId, AuditOutcomes.Failure, "no such session visible to the caller", context.ClientAddress(), cancellationToken);
            return ApiProblem.NotFound(ProblemCodes.SessionNotFound, $"no active session '{sessionId}' that you may end");
        }

        var reason = $"terminated by {context.User.GetUsername()}";
        if (session.Lifetime?.End(reason) != true)
        {
            broker.Remove(session);
        }

        await audit.WriteAsync(context.User.GetActor(), "session.terminate", $"device:{session.Target.DeviceName}/{session.Target.EndpointName}",
            detail: $"session {session.Id} of {session.Target.Username}", clientAddress: context.ClientAddress(), cancellationToken: cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<List<PendingSession>> VisibleAsync(HttpContext context, ISessionBroker broker, PortholeDbContext db, CancellationToken cancellationToken)
    {
        var access = context.GetUserAccess();
        var sessions = broker.Active.ToList();
        var deviceIds = sessions.Select(s => s.Target.DeviceId).Distinct().ToList();
        var devices = await db.Devices.AsNoTracking().Include(d => d.Tags).Where(d => deviceIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, cancellationToken);
        return [.. sessions.Where(s => s.Target.UserId == access.UserId
            || (devices.TryGetValue(s.Target.DeviceId, out var device) && access.Can(Permissions.SessionsManage, device)))];
    }

    private static async Task AgentLegAsync(
        string sessionId, HttpContext context, ISessionBroker broker, TimeProvider time, IOptions<PortholeServerOptions> options, ILoggerFactory loggers)
    {
        var session = broker.Find(sessionId);
        if (!context.WebSockets.IsWebSocketRequest || session is null || session.Target.DeviceId != context.User.GetDeviceId())
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.SessionNotFound, "Not found", "no such pending session for this device");
            return;
        }

        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = ControlProtocol.DataSubProtocol,
            KeepAliveInterval = options.Value.KeepAliveInterval,
            KeepAliveTimeout = KeepAliveSettings.WebSocketPongTimeout,
        });

        if (!session.TryAttachAgent(context.Request.Headers[ControlProtocol.SessionKeyHeader].ToString(), webSocket))
        {
            await webSocket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "bad or reused session key", context.RequestAborted);
            return;
        }

        // The relay runs in the client's request; this request only has to keep the agent's socket alive.
        if (!await session.WaitForClientAsync(options.Value.ClientAttachTimeout, time, context.RequestAborted))
        {
            RelayLog.Expired(loggers.CreateLogger(typeof(SessionsApi)), session.Id);
            broker.Remove(session);
            await webSocket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "the client did not join the session in time", CancellationToken.None);
            return;
        }

        // Once the relay runs it owns the socket and ends on its own when the agent goes away. Returning early on
        // RequestAborted would dispose the socket under the relay while it still reads bytes the agent sent before
        // leaving, and lose them; only a session whose relay never started may be left at once.
        await session.Finished.WaitAsync(context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!session.Finished.IsCompleted && session.Joined)
        {
            await session.Finished;
        }
    }
}
